"""Lean panoptic loading gives the same training samples as mmdet's."""
import sys
import types

import cv2
import numpy as np
import pytest

from mmcv.transforms import LoadImageFromFile

from mmdet.datasets.transforms import (FilterAnnotations, RandomCrop,
                                       RandomFlip, Resize)
from mmpanoptic_cabb.datasets.transforms import (InstMapToMasks,
                                                 LoadPanopticAnnotationsLean,
                                                 PanopticRandomFlip,
                                                 PanopticResize,
                                                 TruncationAwareRandomCrop)
from mmpanoptic_cabb.structures.errors import PanopticFormatError
from mmpanoptic_cabb.structures.panoptic_png import write_panoptic_png


def write_sample(tmp_path, h=90, w=130, seed=0):
    """A panoptic PNG + image and the matching mmdet data info."""
    rng = np.random.default_rng(seed)
    pan = np.zeros((h, w), dtype=np.int64)  # 0 = void
    segments = []  # (id, category, is_thing, iscrowd)
    pan[:h // 2] = 1001  # stuff "sky" (label 3)
    pan[h // 2:] = 1002  # stuff "road" (label 4)
    pan[:5, :5] = 0  # void corner
    segments += [(1001, 3, False, False), (1002, 4, False, False)]
    pan[h - 10:, w - 20:] = 77777  # id present in the PNG but not listed
    for k in range(14):
        sid = 256 * 256 * (k + 1) + 256 * k + 7  # use all three channels
        y, x = rng.integers(0, h - 8), rng.integers(0, w - 8)
        hh, ww = rng.integers(3, h // 2), rng.integers(3, w // 3)
        pan[y:y + hh, x:x + ww] = sid
        if k == 3:  # an instance with a hole splitting it
            pan[y:y + hh, x + 1:x + 2] = 1001
        segments.append((sid, int(k % 3), True, k == 5))  # k=5: crowd
    seg_png = tmp_path / 'pan.png'
    write_panoptic_png(seg_png, pan)
    img_path = tmp_path / 'img.png'
    cv2.imwrite(str(img_path), rng.integers(0, 255, (h, w, 3), np.uint8))

    instances, segments_info = [], []
    for sid, label, is_thing, crowd in segments:
        ys, xs = np.nonzero(pan == sid)
        if ys.size == 0:
            continue  # fully painted over: area 0, skipped like mmdet
        box = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
        if is_thing and not crowd:
            instances.append(
                dict(
                    bbox=[float(v) for v in box],
                    bbox_label=label,
                    ignore_flag=0))
        segments_info.append(
            dict(
                id=sid,
                category=label,
                is_thing=is_thing and not crowd,
                iscrowd=crowd))
    info = dict(
        img_path=str(img_path),
        seg_map_path=str(seg_png),
        height=h,
        width=w,
        img_id=0,
        instances=instances,
        segments_info=segments_info)
    return info, pan


@pytest.fixture
def mmdet_loader(monkeypatch):
    """mmdet's LoadPanopticAnnotations (panopticapi's rgb2id, or the same
    COCO formula when panopticapi is not installed)."""
    try:
        import panopticapi.utils  # noqa: F401
    except ImportError:
        utils = types.ModuleType('panopticapi.utils')

        def rgb2id(color):
            # panopticapi's formula, written out independently of this
            # package's codec on purpose: it is the reference
            color = color.astype(np.int32)
            return color[..., 0] + 256 * color[..., 1] + 65536 * color[..., 2]

        utils.rgb2id = rgb2id
        package = types.ModuleType('panopticapi')
        package.utils = utils
        monkeypatch.setitem(sys.modules, 'panopticapi', package)
        monkeypatch.setitem(sys.modules, 'panopticapi.utils', utils)
    from mmdet.datasets.transforms import LoadPanopticAnnotations
    return LoadPanopticAnnotations(with_mask=True, with_seg=True)


def run(transforms, results):
    for t in transforms:
        results = t(results)
    return results


def test_lean_loading_outputs(tmp_path, mmdet_loader):
    info, pan = write_sample(tmp_path)
    # the sample has an id that its JSON does not list: mmdet makes it void,
    # so does the lean loader once its id check is off
    lean = run([LoadImageFromFile(),
                LoadPanopticAnnotationsLean(check_ids=False)], dict(info))
    ref = run([LoadImageFromFile(), mmdet_loader], dict(info))
    assert 'gt_masks' not in lean
    assert lean['gt_seg_map'].dtype == np.uint8
    assert lean['gt_inst_map'].dtype == np.int32
    np.testing.assert_array_equal(lean['gt_seg_map'], ref['gt_seg_map'])
    assert (lean['gt_seg_map'][pan == 0] == 255).all()
    assert (lean['gt_seg_map'][pan == 77777] == 255).all()
    np.testing.assert_array_equal(lean['gt_bboxes'].numpy(),
                                  ref['gt_bboxes'].numpy())
    n = len(ref['gt_bboxes'])
    for k in range(n):
        np.testing.assert_array_equal(lean['gt_inst_map'] == k + 1,
                                      ref['gt_masks'].masks[k] > 0)
    assert lean['gt_inst_map'].max() == n


@pytest.mark.parametrize('seed, offset, scale', [(0, (7, 13), 1.37),
                                                 (1, (0, 0), 0.61),
                                                 (2, (30, 55), 1.0)])
def test_same_training_sample_as_mmdet(tmp_path, mmdet_loader, seed, offset,
                                       scale):
    info, _ = write_sample(tmp_path, seed=seed)
    crop_size = (64, 48)  # (w, h)
    mm_crop = RandomCrop(
        crop_size=crop_size, recompute_bbox=True, allow_negative_crop=True)
    mm_crop._rand_offset = lambda margin: (min(offset[0], margin[0]),
                                           min(offset[1], margin[1]))
    ref = run([
        LoadImageFromFile(), mmdet_loader,
        Resize(scale_factor=scale, keep_ratio=True),
        RandomFlip(prob=1.0, direction='horizontal'), mm_crop,
        FilterAnnotations(min_gt_bbox_wh=(0, 0), keep_empty=False)
    ], dict(info))

    crop = TruncationAwareRandomCrop(crop_size=crop_size)
    crop._rand_window = lambda img_hw, crop_hw, region: (
        min(offset[0], img_hw[0] - crop_hw[0]),
        min(offset[1], img_hw[1] - crop_hw[1]))
    lean = run([
        LoadImageFromFile(),
        LoadPanopticAnnotationsLean(check_ids=False),
        PanopticResize(scale_factor=scale, keep_ratio=True),
        PanopticRandomFlip(prob=1.0, direction='horizontal'), crop,
        InstMapToMasks()
    ], dict(info))

    np.testing.assert_array_equal(lean['img'], ref['img'])
    np.testing.assert_array_equal(lean['gt_seg_map'], ref['gt_seg_map'])
    np.testing.assert_array_equal(lean['gt_bboxes'].numpy(),
                                  ref['gt_bboxes'].numpy())
    np.testing.assert_array_equal(lean['gt_bboxes_labels'],
                                  ref['gt_bboxes_labels'])
    np.testing.assert_array_equal(lean['gt_ignore_flags'],
                                  ref['gt_ignore_flags'])
    np.testing.assert_array_equal(lean['gt_masks'].masks,
                                  ref['gt_masks'].masks)
    assert len(lean['gt_bboxes']) > 0
    assert lean['gt_truncated'].shape == (len(lean['gt_bboxes']), 4)


def test_without_seg_map_path():
    results = dict(
        height=4, width=4, instances=[], segments_info=[], seg_map_path=None)
    out = LoadPanopticAnnotationsLean()(results)
    assert 'gt_seg_map' not in out and 'gt_inst_map' not in out
    assert len(out['gt_bboxes']) == 0


def test_mismatched_instances_raise(tmp_path):
    info, _ = write_sample(tmp_path)
    info['instances'] = info['instances'][:-1]
    with pytest.raises(ValueError):
        LoadPanopticAnnotationsLean()(dict(info))
    assert 'with_inst_map=True' in repr(LoadPanopticAnnotationsLean())


def test_png_ids_must_match_the_json(tmp_path):
    info, pan = write_sample(tmp_path)
    with pytest.raises(PanopticFormatError) as err:
        LoadPanopticAnnotationsLean()(dict(info))
    assert err.value.segment_id == 77777
    assert info['seg_map_path'] in str(err.value)
    assert 'segment id 77777 is in the PNG but not in the JSON' in str(
        err.value)
    listed = dict(info, segments_info=info['segments_info'] + [
        dict(id=77777, category=4, is_thing=False, iscrowd=False),
        dict(id=123, category=4, is_thing=False, iscrowd=False)])
    with pytest.raises(PanopticFormatError,
                       match='segment id 123 is in the JSON but not in'):
        LoadPanopticAnnotationsLean()(listed)
    assert 'check_ids=True' in repr(LoadPanopticAnnotationsLean())
