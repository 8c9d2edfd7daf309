"""Class-uniform sampling (wrapper + sampler), ISUS resize and Fig. 2 tool."""
import importlib.util
import json
import os.path as osp
import time

import cv2
import numpy as np
import pytest
from scipy.stats import chisquare

from mmdet.structures.bbox import HorizontalBoxes
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmpanoptic_cabb.datasets.samplers import (ClassIndex, ClassUniformDataset,
                                               ClassUniformSampler)
from mmpanoptic_cabb.datasets.samplers import class_uniform_sampler
from mmpanoptic_cabb.datasets.transforms import ISUSResize
from mmpanoptic_cabb.datasets.transforms.isus_scale import (box_scale,
                                                            pyramid_level)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CATEGORIES = [
    dict(id=1, name='car', isthing=1),
    dict(id=2, name='person', isthing=1),
    dict(id=3, name='sky', isthing=0),
    dict(id=4, name='road', isthing=0),
    dict(id=5, name='pole', isthing=0),
]
METAINFO = dict(
    classes=('car', 'person', 'sky', 'road', 'pole'),
    thing_classes=('car', 'person'),
    stuff_classes=('sky', 'road', 'pole'))
CAR, PERSON, SKY, ROAD, POLE = range(5)
#: The RoI extractor's ``featmap_strides`` of mmdet's FPN: four levels.
STRIDES_4 = (4, 8, 16, 32)


def write_coco_panoptic(root, num_images=8, h=48, w=64):
    """A tiny COCO panoptic dataset: cars in every image, one person (image
    0), one pole (image 1), a crowd of cars (image 2), void pixels."""
    rng = np.random.default_rng(0)
    for sub in ('images', 'panoptic'):
        (root / sub).mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    for i in range(num_images):
        pan = np.zeros((h, w), dtype=np.int64)
        pan[:h // 2], pan[h // 2:] = 3001, 4001
        pan[h - 2:, :4] = 0  # void
        cats = {3001: 3, 4001: 4}
        crowd = set()
        for k in range(i % 3 + 1):
            ch, cw = [(6, 8), (12, 16), (20, 28)][k]
            y, x = rng.integers(0, h - ch), rng.integers(0, w - cw)
            pan[y:y + ch, x:x + cw] = 1000 + k
            cats[1000 + k] = 1
        if i == 0:
            pan[30:40, 50:56] = 2000
            cats[2000] = 2
        if i == 1:
            pan[5:40, 60:62] = 5000
            cats[5000] = 5
        if i == 2:
            pan[0:6, 0:20] = 1099
            cats[1099] = 1
            crowd.add(1099)
        segments = []
        for sid, cat in cats.items():
            ys, xs = np.nonzero(pan == sid)
            if ys.size == 0:
                continue
            segments.append(
                dict(
                    id=sid,
                    category_id=cat,
                    iscrowd=int(sid in crowd),
                    area=int(ys.size),
                    bbox=[
                        int(xs.min()),
                        int(ys.min()),
                        int(xs.max() - xs.min() + 1),
                        int(ys.max() - ys.min() + 1)
                    ]))
        name = f'img_{i:03d}'
        bgr = np.stack([(pan >> 16) & 255, (pan >> 8) & 255, pan & 255],
                       axis=-1).astype(np.uint8)
        cv2.imwrite(str(root / 'panoptic' / f'{name}.png'), bgr)
        cv2.imwrite(
            str(root / 'images' / f'{name}.jpg'),
            rng.integers(0, 255, (h, w, 3), dtype=np.uint8))
        images.append(dict(id=i, file_name=f'{name}.jpg', height=h, width=w))
        annotations.append(
            dict(image_id=i, file_name=f'{name}.png', segments_info=segments))
    with open(root / 'panoptic.json', 'w') as f:
        json.dump(
            dict(
                images=images, annotations=annotations, categories=CATEGORIES),
            f)
    return root


def train_pipeline(isus=True,
                   crop=(32, 32),
                   finest_scale=8,
                   featmap_strides=STRIDES_4):
    return [
        dict(type='LoadImageFromFile'),
        dict(type='LoadPanopticAnnotationsLean'),
        dict(
            type='ISUSResize',
            short_side=48,
            stuff_range=(0.8, 1.25),
            thing_range=(0.25, 4.0),
            isus=isus,
            level_rule=dict(
                finest_scale=finest_scale, featmap_strides=featmap_strides)),
        dict(type='PanopticRandomFlip', prob=0.5),
        dict(type='TruncationAwareRandomCrop', crop_size=crop),
        dict(type='InstMapToMasks'),
        dict(
            type='PackPanopticInputs',
            meta_keys=('img_id', 'img_shape', 'sampled_class',
                       'sampled_instance', 'isus_sigma', 'isus_level')),
    ]


def dataset_cfg(root, pipeline):
    return dict(
        type='CocoPanopticDataset',
        data_root=str(root),
        ann_file='panoptic.json',
        data_prefix=dict(img='images/', seg='panoptic/'),
        metainfo=METAINFO,
        filter_cfg=None,
        pipeline=pipeline)


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


# ------------------------------------------------------------- ISUS resize
def one_instance_results(box=(30, 20, 62, 52), h=64, w=96):
    return dict(
        img=np.zeros((h, w, 3), dtype=np.uint8),
        img_shape=(h, w),
        gt_bboxes=HorizontalBoxes(np.array([box], dtype=np.float32)),
        gt_bboxes_labels=np.array([0]),
        gt_ignore_flags=np.array([False]),
        gt_seg_map=np.zeros((h, w), dtype=np.uint8),
        gt_inst_map=np.zeros((h, w), dtype=np.int32),
        sampled_class=0,
        sampled_instance=0)


def isus_levels(transform, draws=400, **kwargs):
    np.random.seed(0)
    levels, targets, sigmas = [], [], []
    for _ in range(draws):
        out = transform(one_instance_results(**kwargs))
        scale = box_scale(out['gt_bboxes'].numpy())[0]
        levels.append(
            pyramid_level(scale, transform.finest_scale, transform.num_levels))
        targets.append(out['isus_level'])
        sigmas.append(out['isus_sigma'])
    return np.array(levels), np.array(targets), np.array(sigmas)


def test_isus_levels_are_uniform_when_clamp_does_not_bind():
    # instance scale 32 after s0; targets 8 * 2**(l + .5): sigma in [.35, 2.9]
    t = ISUSResize(
        short_side=64,
        level_rule=dict(finest_scale=8, featmap_strides=STRIDES_4))
    levels, targets, sigmas = isus_levels(t)
    np.testing.assert_array_equal(levels, targets)
    counts = np.bincount(levels, minlength=4)
    assert chisquare(counts).pvalue > 1e-3, counts
    assert ((sigmas >= 0.25) & (sigmas <= 4.0)).all()
    t = ISUSResize(
        short_side=64,
        level_rule=dict(finest_scale=8, featmap_strides=STRIDES_4),
        level_position='uniform')
    levels, targets, _ = isus_levels(t)
    np.testing.assert_array_equal(levels, targets)


def test_level_rule_changes_isus_targets():
    a = ISUSResize(
        short_side=64,
        level_rule=dict(finest_scale=8, featmap_strides=STRIDES_4))
    b = ISUSResize(
        short_side=64,
        level_rule=dict(finest_scale=16, featmap_strides=(8, 16, 32)))
    assert (a.num_levels, b.num_levels) == (4, 3)
    _, _, sig_a = isus_levels(a, draws=200)
    levels_b, targets_b, sig_b = isus_levels(b, draws=200)
    np.testing.assert_allclose(
        sorted(set(np.round(sig_a * 32, 3))),
        np.round([8 * 2**(l + .5) for l in range(4)], 3),
        rtol=1e-3)
    np.testing.assert_allclose(
        sorted(set(np.round(sig_b * 32, 3))),
        np.round([16 * 2**(l + .5) for l in range(3)], 3),
        rtol=1e-3)
    np.testing.assert_array_equal(levels_b, targets_b)
    assert set(levels_b) == {0, 1, 2}


def test_clamp_binds_for_extreme_instances():
    t = ISUSResize(
        short_side=64,
        level_rule=dict(finest_scale=56, featmap_strides=STRIDES_4))
    _, targets, sigmas = isus_levels(t, box=(30, 20, 32, 22))
    assert ((sigmas >= 0.25) & (sigmas <= 4.0)).all()
    assert (sigmas == 4.0).all()  # a 2-px instance cannot reach any level


def test_stuff_and_cus_use_stuff_range():
    np.random.seed(0)
    cus = ISUSResize(short_side=64, stuff_range=(0.5, 2.0), isus=False)
    isus = ISUSResize(short_side=64, stuff_range=(0.5, 2.0))
    for _ in range(100):
        out = cus(one_instance_results())
        assert out['isus_level'] == -1 and 0.5 <= out['isus_sigma'] <= 2.0
        stuff = one_instance_results()
        stuff['sampled_class'], stuff['sampled_instance'] = 3, -1
        out = isus(stuff)
        assert out['isus_level'] == -1 and 0.5 <= out['isus_sigma'] <= 2.0
        assert min(out['img'].shape[:2]) == round(64 * out['isus_sigma'])


def test_isus_draws_instance_when_only_class_given():
    np.random.seed(0)
    t = ISUSResize(
        short_side=64,
        level_rule=dict(finest_scale=8, featmap_strides=STRIDES_4))
    results = one_instance_results()
    del results['sampled_instance']
    out = t(results)
    assert out['sampled_instance'] == 0 and out['isus_level'] >= 0
    assert 'finest_scale=8' in repr(t)
    assert 'featmap_strides=(4, 8, 16, 32)' in repr(t)
    with pytest.raises(ValueError):
        ISUSResize(thing_range=(2, 1))
    with pytest.raises(ValueError, match='featmap_strides'):
        ISUSResize(level_rule=dict(featmap_strides=()))


def test_level_rule_has_one_form():
    # the RoI extractor's config (finest_scale, featmap_strides); nothing
    # else: no num_levels, no separate finest_scale / featmap_strides.
    assert ISUSResize().num_levels == 4
    assert ISUSResize(level_rule=dict(featmap_strides=[4, 8])).num_levels == 2
    for other in (dict(num_levels=4), dict(featmap_strides=[4, 8]),
                  dict(finest_scale=56)):
        with pytest.raises(TypeError):
            ISUSResize(**other)


# --------------------------------------------------------- Fig. 2 tool
def load_tool(name):
    path = osp.join(REPO, 'tools', 'analysis_tools', f'{name}.py')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scale_stats_tool(data_root, tmp_path):
    cfg_path = tmp_path / 'cfg.py'
    model = dict(
        roi_head=dict(
            bbox_roi_extractor=dict(
                finest_scale=8, featmap_strides=[4, 8, 16, 32])))
    train = dict(
        batch_size=1,
        sampler=dict(type='ClassUniformSampler'),
        dataset=dict(
            type='ClassUniformDataset',
            dataset=dataset_cfg(data_root, train_pipeline())))
    cfg_path.write_text(f'model = {model!r}\ntrain_dataloader = {train!r}\n')
    tool = load_tool('scale_stats')
    out = tmp_path / 'out'
    stats = tool.main([
        str(cfg_path), '--out',
        str(out), '--num-samples', '12', '--seed', '0'
    ])
    for name in ('crop_iou.png', 'scale_distribution.png', 'stats.json'):
        assert (out / name).is_file(), name
    assert set(stats) == {'as_is', 'cus', 'isus'}
    for mode in stats.values():
        assert len(mode['level_fractions']) == 4
        assert abs(sum(mode['level_fractions']) - 1) < 1e-6
        assert all(0 <= iou <= 1 for iou in mode['crop_ious'])


def test_scale_stats_level_rule_sources():
    tool = load_tool('scale_stats')
    isus = dict(
        type='ISUSResize',
        level_rule=dict(finest_scale=8, featmap_strides=[4, 8, 16]))
    from_pipeline = Config(
        dict(train_dataloader=dict(dataset=dict(pipeline=[isus]))))
    assert tool.level_rule(from_pipeline) == (8.0, 3)
    from_model = Config(
        dict(
            model=dict(
                roi_head=dict(
                    bbox_roi_extractor=dict(
                        finest_scale=16, featmap_strides=[4, 8]))),
            train_dataloader=dict(dataset=dict(pipeline=[isus]))))
    assert tool.level_rule(from_model) == (16.0, 2)
    defaults = Config(dict(train_dataloader=dict(dataset=dict(pipeline=[]))))
    assert tool.level_rule(defaults) == (56.0, 4)


def test_benchmark_pipeline_runs_both_paths(tmp_path, monkeypatch):
    bench = load_tool('benchmark_pipeline')
    sample = bench.generate_sample(str(tmp_path), 0.03, 6)
    with open(sample) as f:
        info = json.load(f)
    assert len(info['instances']) >= 1
    assert info['height'] * info['width'] == pytest.approx(3e4, rel=0.02)
    lean = bench.run_path('lean', sample, 64, 1.0, 1, one_core=False)
    ref = bench.run_path('mmdet', sample, 64, 1.0, 1, one_core=False)
    for report in (lean, ref):
        assert report['peak_rss_mib'] > 0 and report['seconds'] > 0
        assert report['masks_in_crop'] <= report['instances']
