"""Flips, resizes and packing of the instance id map and truncation flags."""
import copy

import numpy as np
import pytest
import torch

from mmdet.datasets.transforms import Resize
from mmdet.structures.bbox import HorizontalBoxes
from mmdet.structures.mask import BitmapMasks
from mmpanoptic_cabb.datasets.transforms import (PackPanopticInputs,
                                                 PanopticRandomFlip,
                                                 PanopticResize)
from mmpanoptic_cabb.datasets.transforms.inst_map_ops import (
    boxes_from_inst_map, masks_from_inst_map)
from mmpanoptic_cabb.datasets.transforms.truncation import flip_truncation
from mmpanoptic_cabb.structures.box_sides import (BOTTOM, FLIP_PERMUTATIONS,
                                                  LEFT, NUM_SIDES, RIGHT,
                                                  SIDE_NAMES, TOP)

FLAGS = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 1], [1, 1, 0, 0]],
                 dtype=bool)


def make_results():
    inst = np.zeros((20, 30), dtype=np.int32)
    inst[0:5, 0:10] = 1
    inst[3:15, 12:14] = 2
    inst[10:20, 20:30] = 3
    inst[16:19, 2:7] = 4
    boxes, _ = boxes_from_inst_map(inst, 4)
    return dict(
        img=np.random.randint(0, 255, (20, 30, 3), dtype=np.uint8),
        img_shape=(20, 30),
        gt_bboxes=HorizontalBoxes(boxes),
        gt_bboxes_labels=np.arange(4, dtype=np.int64),
        gt_ignore_flags=np.zeros(4, dtype=bool),
        gt_seg_map=(inst > 0).astype(np.uint8),
        gt_inst_map=inst,
        gt_truncated=FLAGS.copy())


@pytest.mark.parametrize('direction, perm', [('horizontal', [2, 1, 0, 3]),
                                             ('vertical', [0, 3, 2, 1]),
                                             ('diagonal', [2, 3, 0, 1])])
def test_flip_swaps_flags_and_flips_inst_map(direction, perm):
    results = make_results()
    inst = results['gt_inst_map'].copy()
    out = PanopticRandomFlip(prob=1.0, direction=direction)(results)
    assert out['flip'] and out['flip_direction'] == direction
    np.testing.assert_array_equal(out['gt_truncated'], FLAGS[:, perm])
    axes = {'horizontal': (1, ), 'vertical': (0, ), 'diagonal': (0, 1)}
    np.testing.assert_array_equal(out['gt_inst_map'],
                                  np.flip(inst, axes[direction]))
    # boxes flipped by mmdet stay consistent with the flipped id map
    boxes, _ = boxes_from_inst_map(out['gt_inst_map'], 4)
    np.testing.assert_allclose(out['gt_bboxes'].numpy(), boxes)


def test_flip_twice_is_identity_on_flags():
    for direction in ('horizontal', 'vertical', 'diagonal'):
        twice = flip_truncation(flip_truncation(FLAGS, direction), direction)
        np.testing.assert_array_equal(twice, FLAGS)
    with pytest.raises(ValueError):
        flip_truncation(FLAGS, 'sideways')


def test_no_flip_leaves_flags():
    out = PanopticRandomFlip(prob=0.0)(make_results())
    np.testing.assert_array_equal(out['gt_truncated'], FLAGS)


@pytest.mark.parametrize('keep_ratio', [True, False])
def test_resize_keeps_flags_and_matches_mask_resize(keep_ratio):
    results = make_results()
    ref = make_results()
    ref['gt_masks'] = BitmapMasks(
        masks_from_inst_map(ref['gt_inst_map'], 4), 20, 30)
    kwargs = dict(scale=(47, 33), keep_ratio=keep_ratio)
    out = PanopticResize(**kwargs)(results)
    ref = Resize(**kwargs)(ref)
    np.testing.assert_array_equal(out['gt_truncated'], FLAGS)
    assert out['gt_inst_map'].dtype == np.int32
    assert out['gt_inst_map'].shape == out['img'].shape[:2]
    np.testing.assert_array_equal(
        masks_from_inst_map(out['gt_inst_map'], 4), ref['gt_masks'].masks)


def test_pack_carries_flags_and_respects_ignore():
    results = make_results()
    results['gt_ignore_flags'] = np.array([False, True, False, False])
    packed = PackPanopticInputs()(results)
    gt = packed['data_samples'].gt_instances
    ignored = packed['data_samples'].ignored_instances
    assert gt.truncated.dtype == torch.bool
    assert torch.equal(gt.truncated, torch.from_numpy(FLAGS[[0, 2, 3]]))
    assert torch.equal(ignored.truncated, torch.from_numpy(FLAGS[[1]]))
    assert torch.equal(gt.labels, torch.tensor([0, 2, 3]))
    assert len(gt) == 3


def test_pack_without_crop_fills_false_flags():
    results = make_results()
    del results['gt_truncated']
    packed = PackPanopticInputs()(results)
    truncated = packed['data_samples'].gt_instances.truncated
    assert truncated.shape == (4, 4) and truncated.dtype == torch.bool
    assert not truncated.any()
    # a copy (as the detector makes for its RPN) keeps the field
    copied = packed['data_samples'].clone()
    assert torch.equal(copied.gt_instances.truncated, truncated)


def test_rpn_copy_keeps_flags():
    """The detectors deep-copy the samples for the RPN and zero the labels
    (``rpn_data_samples``); the flags survive, row-aligned."""
    packed = PackPanopticInputs()(make_results())
    rpn_sample = copy.deepcopy(packed['data_samples'])
    rpn_sample.gt_instances.labels = torch.zeros_like(
        rpn_sample.gt_instances.labels)
    assert torch.equal(rpn_sample.gt_instances.truncated,
                       torch.from_numpy(FLAGS))
    assert len(rpn_sample.gt_instances) == len(FLAGS)


@pytest.mark.parametrize('direction', ['horizontal', 'vertical', 'diagonal'])
def test_flip_permutation_matches_box_flip(direction):
    """Side ``j`` of a flipped box lies as far from its image border as side
    ``FLIP_PERMUTATIONS[direction][j]`` of the original."""
    h, w = 20, 30
    boxes = HorizontalBoxes(
        torch.tensor([[2., 3., 11., 7.], [12., 1., 29., 18.]]))

    def border_distance(b):
        x1, y1, x2, y2 = b.tensor.unbind(1)
        dist = torch.zeros(len(b), NUM_SIDES)
        dist[:, LEFT], dist[:, TOP] = x1, y1
        dist[:, RIGHT], dist[:, BOTTOM] = w - x2, h - y2
        return dist

    before = border_distance(boxes)
    flipped = boxes.clone()
    flipped.flip_((h, w), direction)
    perm = list(FLIP_PERMUTATIONS[direction])
    assert torch.equal(border_distance(flipped), before[:, perm])
    assert SIDE_NAMES == ('left', 'top', 'right', 'bottom')
    assert [SIDE_NAMES[k]
            for k in (LEFT, TOP, RIGHT, BOTTOM)] == list(SIDE_NAMES)


def test_pack_without_instances():
    results = make_results()
    results['gt_bboxes'] = HorizontalBoxes(np.zeros((0, 4), np.float32))
    for key in ('gt_bboxes_labels', 'gt_ignore_flags'):
        results[key] = results[key][:0]
    del results['gt_truncated']
    gt = PackPanopticInputs()(results)['data_samples'].gt_instances
    assert gt.truncated.shape == (0, 4)


def test_pack_rejects_misaligned_flags():
    results = make_results()
    results['gt_truncated'] = FLAGS[:3]
    with pytest.raises(ValueError):
        PackPanopticInputs()(results)
