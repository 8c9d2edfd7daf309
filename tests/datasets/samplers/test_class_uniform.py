"""Class-uniform sampling: class index, dataset wrapper, sampler and the
full CUS/ISUS training pipeline through the wrapper."""
import time

import numpy as np
import pytest
from scipy.stats import chisquare

from mmdet.utils import register_all_modules
from mmpanoptic_cabb.datasets.samplers import (ClassIndex, ClassUniformDataset,
                                               ClassUniformSampler)
from mmpanoptic_cabb.datasets.samplers import class_uniform_sampler
from ..cus_data import (CAR, METAINFO, PERSON, POLE, ROAD, SKY, dataset_cfg,
                        train_pipeline, write_coco_panoptic)


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    register_all_modules()
    return write_coco_panoptic(tmp_path_factory.mktemp('coco_panoptic'))


@pytest.fixture(scope='module')
def wrapper(data_root):
    return ClassUniformDataset(
        dataset=dataset_cfg(data_root, train_pipeline()), seed=3)


# ------------------------------------------------------------ class index
def test_class_index_contents(wrapper):
    index = wrapper.class_index
    assert list(index.classes) == [CAR, PERSON, SKY, ROAD, POLE]
    assert list(index.images_of(PERSON)) == [0]
    assert list(index.images_of(POLE)) == [1]
    assert list(index.images_of(ROAD)) == list(range(8))
    # image 2: three cars (rows 0..2) and a crowd of cars (not a row)
    assert list(index.instances_of(CAR, 2)) == [0, 1, 2]
    assert list(index.instances_of(SKY, 2)) == []
    with pytest.raises(KeyError):
        index.images_of(17)


def test_class_frequencies_are_uniform(wrapper):
    draws = np.array([wrapper.draw(i) for i in range(5000)])
    counts = np.bincount(draws[:, 1], minlength=5)
    assert chisquare(counts).pvalue > 1e-3, counts
    # rare classes come with their only image
    assert set(draws[draws[:, 1] == PERSON, 0]) == {0}
    # images given a class are uniform too
    car_imgs = np.bincount(draws[draws[:, 1] == CAR, 0], minlength=8)
    assert chisquare(car_imgs).pvalue > 1e-3, car_imgs
    # things come with an instance of their class, stuff with -1
    assert (draws[draws[:, 1] >= SKY, 2] == -1).all()
    assert (draws[draws[:, 1] <= PERSON, 2] >= 0).all()
    # draws are reproducible and depend on the draw id only
    assert wrapper.draw(123) == wrapper.draw(123)
    assert len({wrapper.draw(i) for i in range(50)}) > 10


def test_ignore_classes_and_len(data_root):
    ds = ClassUniformDataset(
        dataset=dataset_cfg(data_root, []),
        seed=0,
        ignore_classes=[SKY],
        num_samples=17)
    assert len(ds) == 17
    assert SKY not in ds.class_index.classes
    assert 'ClassUniformDataset' in repr(ds)
    assert ds.metainfo['classes'] == METAINFO['classes']


def test_class_index_is_cheap_for_20k_images():
    rng = np.random.default_rng(0)
    pool = [dict(category=c, is_thing=c < 10) for c in range(30)]
    images = [[pool[c] for c in row]
              for row in rng.integers(0, 30, size=(20000, 30))]
    start = time.perf_counter()
    index = ClassIndex.from_segments(images)
    elapsed = time.perf_counter() - start
    assert index.num_classes == 30
    assert elapsed < 5.0, elapsed  # ~0.7 s on one core


# ----------------------------------------------------------------- sampler
@pytest.mark.parametrize('world_size', [1, 3])
def test_sampler_yields_fresh_ids_per_rank_and_epoch(monkeypatch, wrapper,
                                                     world_size):
    seen = []
    for rank in range(world_size):
        monkeypatch.setattr(
            class_uniform_sampler,
            'get_dist_info',
            lambda r=rank: (r, world_size))
        sampler = ClassUniformSampler(wrapper)
        for epoch in range(3):
            sampler.set_epoch(epoch)
            ids = list(sampler)
            assert len(ids) == len(sampler) == -(-8 // world_size)
            seen += ids
        infinite = ClassUniformSampler(wrapper, infinite=True)
        first = [next(iter(infinite)) for _ in range(2)]
        assert first[0] == first[1] == rank
    assert len(seen) == len(set(seen))


# -------------------------------------------------------- full pipelines
def test_crop_shows_selected_class(wrapper):
    np.random.seed(0)
    for i in range(40):
        data = wrapper[i]
        sample = data['data_samples']
        label = sample.metainfo['sampled_class']
        assert (sample.gt_sem_seg.sem_seg == label).any(), i
        row = sample.metainfo['sampled_instance']
        if label <= PERSON and row >= 0:
            assert int(sample.gt_instances.labels[row]) == label
            assert sample.gt_instances.masks.masks[row].any()
        assert sample.gt_instances.truncated.shape == (len(
            sample.gt_instances), 4)
        assert max(data['inputs'].shape[1:]) <= 32


def test_sigma_ranges_through_the_wrapper(wrapper):
    np.random.seed(1)
    for i in range(40):
        meta = wrapper[i]['data_samples'].metainfo
        sigma, level = meta['isus_sigma'], meta['isus_level']
        if level >= 0:
            assert meta['sampled_class'] <= PERSON
            assert 0.25 <= sigma <= 4.0
        else:
            assert 0.8 <= sigma <= 1.25
