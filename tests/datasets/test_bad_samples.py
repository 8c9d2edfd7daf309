"""Bad samples met during training: a corrupt JPEG, a missing image, a PNG whose ids disagree
with its JSON. By default a BadSampleError names the draw, the image id and the file; with
``skip_bad_samples=True`` the sample is replaced by a fresh draw, logged and counted."""
import json
import os
import os.path as osp
import shutil

import numpy as np
import pytest
from mmengine.runner import Runner

from mmdet.registry import DATASETS
from mmdet.utils import register_all_modules
from mmpanoptic_cabb.structures.errors import (BadSampleError,
                                               PanopticFormatError)
from mmpanoptic_cabb.structures.panoptic_png import (read_panoptic_png,
                                                     write_panoptic_png)
from ..engine.resume_utils import tiny_train_cfg


@pytest.fixture()
def bad_root(tiny_synthetic_root, tmp_path):
    """A copy of the tiny dataset; returns (root, the train JSON)."""
    register_all_modules()
    root = str(tmp_path / 'data')
    shutil.copytree(tiny_synthetic_root, root)
    with open(osp.join(root, 'annotations', 'panoptic_train.json')) as f:
        return root, json.load(f)


#: Seed of the class-uniform draws, stated so that a dataset built here draws what the
#: training built by the Runner draws (unset, it comes from the global numpy state).
DRAW_SEED = 11


def _train_cfg(root, work_dir):
    cfg = tiny_train_cfg(root, work_dir, 2, 100)
    cfg.train_dataloader.dataset.seed = DRAW_SEED
    return cfg


def _dataset(root, skip=False):
    cfg = _train_cfg(root, '/tmp/unused')
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.skip_bad_samples = skip
    return DATASETS.build(dataset_cfg)


def _first_draws(dataset, n):
    """(draw id, image index) of the first ``n`` draws."""
    return [(i, dataset.draw(i)[0]) for i in range(n)]


def _image_of(dataset, img_idx):
    return dataset.dataset.get_data_info(img_idx)


def corrupt_jpeg(path):
    with open(path, 'wb') as f:
        f.write(b'\xff\xd8\xff\xe0 not a jpeg')


def mismatch_png(path, new_id=4242):
    ids = read_panoptic_png(path)
    some = int(ids[ids > 0][0])
    ids[ids == some] = new_id
    write_panoptic_png(path, ids)
    return some


def test_corrupt_jpeg_is_named(bad_root):
    root, _ = bad_root
    dataset = _dataset(root)
    draw_id, img_idx = _first_draws(dataset, 1)[0]
    info = _image_of(dataset, img_idx)
    corrupt_jpeg(info['img_path'])
    with pytest.raises(BadSampleError) as err:
        dataset[draw_id]
    message = str(err.value)
    assert f'draw id {draw_id}' in message
    assert repr(info['img_id']) in message
    assert info['img_path'] in message
    assert err.value.image == info['img_path']


def test_missing_image_is_named(bad_root):
    root, _ = bad_root
    dataset = _dataset(root)
    draw_id, img_idx = _first_draws(dataset, 1)[0]
    info = _image_of(dataset, img_idx)
    os.remove(info['img_path'])
    with pytest.raises(BadSampleError, match='FileNotFoundError'):
        dataset[draw_id]


def test_mismatched_png_is_named(bad_root):
    root, _ = bad_root
    dataset = _dataset(root)
    draw_id, img_idx = _first_draws(dataset, 1)[0]
    info = _image_of(dataset, img_idx)
    replaced = mismatch_png(info['seg_map_path'])
    with pytest.raises(BadSampleError) as err:
        dataset[draw_id]
    message = str(err.value)
    assert info['seg_map_path'] in message
    assert 'segment id 4242 is in the PNG but not in the JSON' in message
    assert err.value.segment_id == 4242
    assert isinstance(err.value.__cause__, PanopticFormatError)

    # the other way round: a JSON id without pixels
    ids = read_panoptic_png(info['seg_map_path'])
    ids[ids == 4242] = replaced
    other = int(np.unique(ids[ids > 0])[-1])
    ids[ids == other] = 0
    write_panoptic_png(info['seg_map_path'], ids)
    with pytest.raises(BadSampleError,
                       match=f'segment id {other} is in the JSON but not'):
        dataset[draw_id]


def test_skip_replaces_by_fresh_draw(bad_root):
    root, _ = bad_root
    dataset = _dataset(root, skip=True)
    draw_id, img_idx = _first_draws(dataset, 1)[0]
    corrupt_jpeg(_image_of(dataset, img_idx)['img_path'])
    dataset.report_to_loop = True
    data = dataset[draw_id]
    report = data.pop('_loader_report')
    assert len(report.skipped) >= 1
    assert _image_of(dataset, img_idx)['img_path'] in report.skipped[0]
    # the replacement is the first redraw of that id that avoids the image
    attempt = next(a for a in range(1, 50)
                   if dataset.draw(draw_id, a)[0] != img_idx)
    expected = dataset.dataset.get_data_info(dataset.draw(draw_id, attempt)[0])
    assert data['data_samples'].img_path == expected['img_path']
    assert len(report.skipped) == attempt


def test_training_skips_and_counts(bad_root, tmp_path):
    root, _ = bad_root
    probe = _dataset(root)
    draws = _first_draws(probe, 4)
    images = sorted({img for _, img in draws})
    corrupt_jpeg(_image_of(probe, images[0])['img_path'])
    if len(images) > 1:
        mismatch_png(_image_of(probe, images[1])['seg_map_path'])
    expected = sum(1 for _, img in draws if img in images[:2])

    cfg = _train_cfg(root, str(tmp_path / 'strict'))
    with pytest.raises(BadSampleError):
        Runner.from_cfg(cfg).train()

    cfg = _train_cfg(root, str(tmp_path / 'skip'))
    cfg.train_dataloader.dataset.skip_bad_samples = True
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    assert runner.message_hub.get_info('skipped_samples') >= expected
