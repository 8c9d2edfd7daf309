"""The synthetic panoptic generator writes valid, deterministic COCO panoptic data."""
import hashlib
import json
import os
import os.path as osp

import numpy as np
import pytest

from mmpanoptic_cabb.data_preparation.synthetic import (
    PROFILES, SceneProfile, make_sample, write_synthetic_dataset)
from mmpanoptic_cabb.datasets.categories import SYNTHETIC_CATEGORIES
from mmpanoptic_cabb.structures.panoptic_png import read_panoptic_png
from tests import load_tool


def _tree_digest(root: str) -> str:
    digest = hashlib.sha256()
    for dirpath, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            digest.update(name.encode())
            with open(osp.join(dirpath, name), 'rb') as f:
                digest.update(f.read())
    return digest.hexdigest()


def test_layout_and_categories(tiny_synthetic_root):
    root = tiny_synthetic_root
    for split, num in (('train', 6), ('val', 3)):
        with open(osp.join(root, 'annotations', f'panoptic_{split}.json')) as f:
            coco = json.load(f)
        assert len(coco['images']) == num == len(coco['annotations'])
        cats = {c['id']: c for c in coco['categories']}
        assert sum(c['isthing'] for c in cats.values()) >= 3
        assert sum(not c['isthing'] for c in cats.values()) >= 3
        assert len(cats) == len(SYNTHETIC_CATEGORIES)
        for img in coco['images']:
            assert osp.isfile(osp.join(root, 'images', split, img['file_name']))
            assert (img['height'], img['width']) == (256, 512)


def test_png_ids_areas_and_boxes_match_json(tiny_synthetic_root):
    root = tiny_synthetic_root
    with open(osp.join(root, 'annotations', 'panoptic_train.json')) as f:
        coco = json.load(f)
    cat_ids = {c['id'] for c in coco['categories']}
    for ann in coco['annotations']:
        ids = read_panoptic_png(
            osp.join(root, 'annotations', 'panoptic_train', ann['file_name']))
        json_ids = [s['id'] for s in ann['segments_info']]
        assert len(set(json_ids)) == len(json_ids), 'duplicate segment ids'
        present = set(np.unique(ids).tolist()) - {0}
        assert present == set(json_ids)
        for seg in ann['segments_info']:
            assert seg['category_id'] in cat_ids
            ys, xs = np.nonzero(ids == seg['id'])
            assert seg['area'] == len(xs)
            assert seg['bbox'] == [int(xs.min()), int(ys.min()),
                                   int(xs.max() - xs.min() + 1),
                                   int(ys.max() - ys.min() + 1)]
            assert seg['iscrowd'] in (0, 1)


def test_deterministic_from_seed(tmp_path):
    kwargs = dict(splits=(('train', 2), ), height=128, width=256, nproc=1)
    write_synthetic_dataset(str(tmp_path / 'a'), seed=3, **kwargs)
    write_synthetic_dataset(str(tmp_path / 'b'), seed=3, **kwargs)
    write_synthetic_dataset(str(tmp_path / 'c'), seed=4, **kwargs)
    assert _tree_digest(str(tmp_path / 'a')) == _tree_digest(str(tmp_path / 'b'))
    assert _tree_digest(str(tmp_path / 'a')) != _tree_digest(str(tmp_path / 'c'))


def test_parallel_generation_equals_serial(tmp_path):
    kwargs = dict(seed=1, splits=(('val', 3), ), height=128, width=256)
    write_synthetic_dataset(str(tmp_path / 'serial'), nproc=1, **kwargs)
    write_synthetic_dataset(str(tmp_path / 'parallel'), nproc=2, **kwargs)
    assert _tree_digest(str(tmp_path / 'serial')) == _tree_digest(
        str(tmp_path / 'parallel'))


def test_scene_statistics_at_default_resolution():
    """Long-tailed thing sizes (16 px .. > 1024 px), crowds, void, border-touching objects."""
    sizes, crowds, void_images, border = [], 0, 0, 0
    for index in range(12):
        _, ids, segments = make_sample(0, 'train', index, 1024, 2048)
        void_images += int((ids == 0).any())
        for seg in segments:
            cat = next(c for c in SYNTHETIC_CATEGORIES
                       if c['id'] == seg['category_id'])
            if not cat['isthing']:
                continue
            if seg['iscrowd']:
                crowds += 1
                continue
            x, y, w, h = seg['bbox']
            sizes.append(np.sqrt(w * h))
            border += int(x == 0 or y == 0 or x + w == 2048 or y + h == 1024)
    sizes = np.asarray(sizes)
    assert sizes.min() <= 24
    assert sizes.max() >= 1024
    assert np.median(sizes) < 128, 'sizes must be long-tailed towards small'
    assert crowds >= 1 and void_images >= 6 and border >= 3


def test_things_occlude_each_other():
    """Some thing boxes overlap: nearer objects are painted over farther ones."""
    overlaps = 0
    for index in range(4):
        _, _, segments = make_sample(0, 'val', index, 512, 1024)
        boxes = [s['bbox'] for s in segments if s['category_id'] in (11, 13, 17)]
        for i, (x, y, w, h) in enumerate(boxes):
            for (u, v, p, q) in boxes[i + 1:]:
                overlaps += int(x < u + p and u < x + w and y < v + q
                                and v < y + h)
    assert overlaps >= 2


def test_bad_arguments():
    with pytest.raises(ValueError, match='unknown split'):
        write_synthetic_dataset('/nonexistent', splits=(('dev', 1), ))
    with pytest.raises(ValueError, match='too small'):
        write_synthetic_dataset('/nonexistent', height=8, width=8)


def test_large_objects_profile_has_more_large_instances(tmp_path):
    """More and larger things than the default, at a tiny size (256x512).

    At 256x512 the synthetic configs' geometry (s0 = H / 2, crop = s0 / 2)
    is s0 = 128 and a 64 px crop: larger than the crop means a box side
    > 128 px in the image.
    """
    tool = load_tool('dataset_converters', 'make_synthetic_panoptic')
    kwargs = dict(seed=0, splits=(('val', 6), ), height=256, width=512,
                  nproc=1)
    summaries = {}
    for profile in ('default', 'large-objects'):
        written = write_synthetic_dataset(str(tmp_path / profile),
                                          profile=profile, **kwargs)
        summaries[profile] = tool.size_summary(written['val'], short_side=128,
                                               crop_size=64)
        with open(written['val']) as f:
            info = json.load(f)['info']
        assert info.get('profile') == (None if profile == 'default' else
                                       profile)
    default, large = summaries['default'], summaries['large-objects']
    assert large['num_instances'] > default['num_instances']
    assert large['larger_than_crop'] > default['larger_than_crop']
    for summary in summaries.values():
        counts = [b['count'] for b in summary['buckets'].values()]
        assert list(summary['buckets']) == [
            'p0-25', 'p25-50', 'p50-75', 'p75-95', 'p95-99', 'p99-100'
        ]
        assert sum(counts) == summary['num_instances']


def test_profiles_are_pure_and_default_is_the_default():
    a = make_sample(2, 'val', 1, 128, 256)
    b = make_sample(2, 'val', 1, 128, 256, profile='default')
    c = make_sample(2, 'val', 1, 128, 256, profile='large-objects')
    d = make_sample(2, 'val', 1, 128, 256, profile='large-objects')
    assert np.array_equal(a[0], b[0]) and a[2] == b[2]
    assert np.array_equal(c[0], d[0]) and c[2] == d[2]
    assert not np.array_equal(a[1], c[1])
    assert PROFILES['default'] == SceneProfile()
    with pytest.raises(ValueError, match='unknown synthetic scene profile'):
        write_synthetic_dataset('/nonexistent', profile='huge')
