"""Truncation-aware crop: boxes from masks, truncation flags, crop hints."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmdet.structures.bbox import HorizontalBoxes
from mmdet.structures.mask import BitmapMasks
from mmpanoptic_cabb.datasets.transforms import (InstMapToMasks,
                                                 TruncationAwareRandomCrop)
from mmpanoptic_cabb.datasets.transforms.crop_window import (
    sample_region_pixel, window_offset)
from mmpanoptic_cabb.datasets.transforms.inst_map_ops import (
    boxes_from_inst_map, masks_from_inst_map, relabel_inst_map)
from mmpanoptic_cabb.datasets.transforms.truncation import truncated_sides

L, T, R, B = range(4)


def make_results(inst_map, labels=None, seg_map=None, with_masks=False):
    """Results dict as after lean loading, with tight boxes."""
    inst_map = np.asarray(inst_map, dtype=np.int32)
    h, w = inst_map.shape
    n = int(inst_map.max())
    boxes, _ = boxes_from_inst_map(inst_map, n)
    labels = np.arange(
        n, dtype=np.int64) if labels is None else np.asarray(
            labels, dtype=np.int64)
    if seg_map is None:
        seg_map = np.full((h, w), 255, dtype=np.uint8)
        for k in range(n):
            seg_map[inst_map == k + 1] = labels[k]
    results = dict(
        img=np.random.randint(0, 255, (h, w, 3), dtype=np.uint8),
        img_shape=(h, w),
        gt_bboxes=HorizontalBoxes(boxes),
        gt_bboxes_labels=labels,
        gt_ignore_flags=np.zeros(n, dtype=bool),
        gt_seg_map=seg_map,
        gt_inst_map=inst_map)
    if with_masks:
        results['gt_masks'] = BitmapMasks(
            masks_from_inst_map(inst_map, n), h, w)
    return results


def fixed_crop(y1, x1, crop_hw, **kwargs):
    """A crop whose window corner is fixed at ``(y1, x1)``."""
    crop = TruncationAwareRandomCrop(
        crop_size=(crop_hw[1], crop_hw[0]), **kwargs)
    crop._rand_window = lambda *args: (y1, x1)
    return crop


def test_truncation_on_each_side_and_touching_edge():
    inst = np.zeros((40, 40), dtype=np.int32)
    inst[15:20, 5:15] = 1  # extends past the left edge (x1=10)
    inst[5:15, 15:20] = 2  # extends past the top edge (y1=10)
    inst[15:20, 25:35] = 3  # extends past the right edge (x2=30)
    inst[25:35, 15:20] = 4  # extends past the bottom edge (y2=30)
    inst[12:14, 10:12] = 5  # touches left and top edges only
    inst[26:30, 26:30] = 6  # touches right and bottom edges only
    inst[20:22, 20:22] = 7  # strictly inside
    results = fixed_crop(10, 10, (20, 20))(make_results(inst))
    flags = results['gt_truncated']
    expected = np.zeros((7, 4), dtype=bool)
    expected[0, L] = expected[1, T] = expected[2, R] = expected[3, B] = True
    np.testing.assert_array_equal(flags, expected)
    boxes = results['gt_bboxes'].numpy()
    np.testing.assert_array_equal(boxes[0], [0, 5, 5, 10])
    np.testing.assert_array_equal(boxes[4], [0, 2, 2, 4])
    np.testing.assert_array_equal(boxes[5], [16, 16, 20, 20])
    assert results['img'].shape[:2] == (20, 20)
    assert results['gt_inst_map'].shape == (20, 20)
    assert results['gt_seg_map'].shape == (20, 20)


def test_instance_cut_into_two_pieces_keeps_one_box():
    inst = np.zeros((30, 30), dtype=np.int32)
    inst[5:25, 5:8] = 1  # a "U": two bars joined below the crop
    inst[5:25, 15:18] = 1
    inst[22:25, 5:18] = 1
    results = fixed_crop(0, 0, (20, 30))(make_results(inst))
    assert len(results['gt_bboxes']) == 1
    np.testing.assert_array_equal(results['gt_bboxes'].numpy()[0],
                                  [5, 5, 18, 20])
    np.testing.assert_array_equal(results['gt_truncated'][0],
                                  [False, False, False, True])
    piece = results['gt_inst_map'] == 1
    assert piece[:, 5:8].any() and piece[:, 15:18].any()
    assert not piece[:, 8:15].any()  # two components


def test_dropped_instances_drop_their_rows():
    inst = np.zeros((40, 40), dtype=np.int32)
    inst[2:6, 2:6] = 1  # outside the crop
    inst[20:25, 20:25] = 2
    inst[35:39, 35:39] = 3  # outside the crop
    inst[15:35, 12:16] = 4  # cut at the bottom
    results = make_results(inst, labels=[7, 8, 9, 10])
    results['gt_truncated'] = np.array(
        [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]], dtype=bool)
    results['gt_instances_ids'] = np.array([100, 101, 102, 103])
    results['sampled_instance'] = 3
    results = fixed_crop(10, 10, (20, 20))(results)
    np.testing.assert_array_equal(results['gt_bboxes_labels'], [8, 10])
    np.testing.assert_array_equal(results['gt_instances_ids'], [101, 103])
    assert results['gt_ignore_flags'].shape == (2, )
    np.testing.assert_array_equal(results['gt_truncated'],
                                  [[0, 1, 0, 0], [0, 0, 0, 1]])
    assert set(np.unique(results['gt_inst_map'])) == {0, 1, 2}
    assert results['sampled_instance'] == 1
    np.testing.assert_array_equal(results['gt_bboxes'].numpy(),
                                  [[10, 10, 15, 15], [2, 5, 6, 20]])


def test_dropped_sampled_instance_becomes_minus_one():
    inst = np.zeros((20, 20), dtype=np.int32)
    inst[0:3, 0:3] = 1
    inst[10:15, 10:15] = 2
    results = make_results(inst)
    results['sampled_instance'] = 0
    results = fixed_crop(8, 8, (10, 10), use_sampled_class=False)(results)
    assert results['sampled_instance'] == -1


def test_multiple_crops_compose():
    inst = np.zeros((60, 60), dtype=np.int32)
    inst[20:50, 5:40] = 1
    results = make_results(inst)
    results = fixed_crop(10, 10, (45, 45))(results)  # window x 10..55
    np.testing.assert_array_equal(results['gt_truncated'][0],
                                  [True, False, False, False])
    np.testing.assert_array_equal(results['gt_bboxes'].numpy()[0],
                                  [0, 10, 30, 40])
    results = fixed_crop(0, 0, (30, 45))(results)  # cuts the bottom now
    np.testing.assert_array_equal(results['gt_truncated'][0],
                                  [True, False, False, True])
    np.testing.assert_array_equal(results['gt_bboxes'].numpy()[0],
                                  [0, 10, 30, 30])
    np.testing.assert_array_equal(results['homography_matrix'],
                                  [[1, 0, -10], [0, 1, -10], [0, 0, 1]])
    results = fixed_crop(12, 5, (15, 20))(results)  # now cut on all sides
    np.testing.assert_array_equal(results['gt_truncated'][0],
                                  [True, True, True, True])


def test_masks_path_equals_inst_map_path():
    rng = np.random.default_rng(0)
    inst = rng.integers(0, 6, size=(32, 48)).astype(np.int32)
    inst[:, 40:] = 5
    a = fixed_crop(7, 11, (16, 20))(make_results(inst))
    b = fixed_crop(7, 11, (16, 20))(make_results(inst, with_masks=True))
    np.testing.assert_array_equal(a['gt_bboxes'].numpy(),
                                  b['gt_bboxes'].numpy())
    np.testing.assert_array_equal(a['gt_truncated'],
                                  b['gt_truncated'])
    a = InstMapToMasks()(a)
    np.testing.assert_array_equal(a['gt_masks'].masks, b['gt_masks'].masks)
    assert 'gt_inst_map' not in a


def test_small_image_is_cropped_to_min_without_flags():
    inst = np.zeros((10, 50), dtype=np.int32)
    inst[0:10, 0:50] = 1
    crop = TruncationAwareRandomCrop(crop_size=(20, 20))
    results = crop(make_results(inst))
    assert results['img'].shape[:2] == (10, 20)
    flags = results['gt_truncated'][0]
    assert not flags[T] and not flags[B]
    assert flags[L] or flags[R]


def test_negative_crop_handling():
    inst = np.zeros((40, 40), dtype=np.int32)
    inst[0:4, 0:4] = 1
    keep = fixed_crop(20, 20, (10, 10))(make_results(inst))
    assert len(keep['gt_bboxes']) == 0
    assert keep['gt_truncated'].shape == (0, 4)
    crop = fixed_crop(20, 20, (10, 10), allow_negative_crop=False)
    assert crop(make_results(inst)) is None


def test_window_shows_sampled_stuff_class():
    inst = np.zeros((100, 100), dtype=np.int32)
    inst[40:60, 40:60] = 1
    seg = np.full((100, 100), 3, dtype=np.uint8)
    seg[90:, 95:] = 5  # a small corner of class 5
    seg[inst == 1] = 0
    crop = TruncationAwareRandomCrop(crop_size=(20, 20))
    np.random.seed(0)
    for _ in range(50):
        results = make_results(inst, labels=[0], seg_map=seg.copy())
        results['sampled_class'] = 5
        results['sampled_instance'] = -1
        assert (crop(results)['gt_seg_map'] == 5).any()


def _crops_of_small_instance(isus_level, seed, num):
    """``num`` 16 x 16 crops of a map with two instances of class 4, a
    28-pixel instance 0 in a corner and a 2000-pixel instance 1, with class 4
    and instance 0 drawn (at ``isus_level``); numpy seeded with ``seed``."""
    inst = np.zeros((100, 100), dtype=np.int32)
    inst[5:9, 90:97] = 1
    inst[50:90, 10:60] = 2
    crop = TruncationAwareRandomCrop(crop_size=(16, 16))
    np.random.seed(seed)
    for _ in range(num):
        results = make_results(inst, labels=[4, 4])
        results['sampled_class'] = 4
        results['sampled_instance'] = 0
        results['isus_level'] = isus_level
        yield crop(results)


def test_window_shows_isus_instance():
    # ISUS scaled instance 0 for a level: the crop must show that instance.
    for out in _crops_of_small_instance(isus_level=2, seed=1, num=50):
        row = out['sampled_instance']
        assert row >= 0 and (out['gt_inst_map'] == row + 1).any()
        assert out['gt_bboxes_labels'][row] == 4


def test_cus_window_is_placed_on_class_pixels():
    # Without ISUS (CUS, isus_level -1) the window is placed on a uniformly
    # drawn pixel of the drawn class, not on the drawn instance. Every crop
    # shows the class; instance 0 is in view only about as often as its
    # share of the class pixels makes it.
    shows_instance_0 = 0
    for out in _crops_of_small_instance(isus_level=-1, seed=2, num=200):
        assert (out['gt_seg_map'] == 4).any()
        shows_instance_0 += int(out['sampled_instance'] >= 0)
    # P(window holds a pixel of instance 0) <= 1 - 2000/2028 plus the windows
    # of instance 1 that reach it (none: they are 40+ px apart)
    assert shows_instance_0 <= 15, shows_instance_0


def test_repr():
    assert 'use_sampled_class=True' in repr(
        TruncationAwareRandomCrop(crop_size=(8, 8)))


# ---------------------------------------------------------------- pure maths
@st.composite
def id_maps_and_windows(draw):
    h = draw(st.integers(4, 24))
    w = draw(st.integers(4, 24))
    n = draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    inst = np.zeros((h, w), dtype=np.int32)
    for k in range(n):
        y1, x1 = rng.integers(0, h), rng.integers(0, w)
        y2, x2 = rng.integers(y1 + 1, h + 1), rng.integers(x1 + 1, w + 1)
        inst[y1:y2, x1:x2] = k + 1
    ch, cw = draw(st.integers(1, h)), draw(st.integers(1, w))
    cy, cx = draw(st.integers(0, h - ch)), draw(st.integers(0, w - cw))
    return inst, n, (cx, cy, cx + cw, cy + ch)


@settings(max_examples=150, deadline=None)
@given(id_maps_and_windows())
def test_flags_match_per_mask_definition(case):
    inst, n, (x1, y1, x2, y2) = case
    before, present = boxes_from_inst_map(inst, n)
    after, kept = boxes_from_inst_map(inst[y1:y2, x1:x2], n)
    flags = truncated_sides(before, after, (x1, y1, x2, y2))
    for k in range(n):
        mask = inst == k + 1
        if not kept[k]:
            continue
        ys, xs = np.nonzero(mask)
        cys, cxs = np.nonzero(mask[y1:y2, x1:x2])
        assert flags[k, L] == (xs.min() < x1 and cxs.min() == 0)
        assert flags[k, T] == (ys.min() < y1 and cys.min() == 0)
        assert flags[k, R] == (xs.max() >= x2 and cxs.max() == x2 - x1 - 1)
        assert flags[k, B] == (ys.max() >= y2 and cys.max() == y2 - y1 - 1)
        np.testing.assert_array_equal(
            after[k],
            [cxs.min(), cys.min(),
             cxs.max() + 1, cys.max() + 1])


@settings(max_examples=100, deadline=None)
@given(id_maps_and_windows())
def test_boxes_and_masks_from_inst_map(case):
    inst, n, _ = case
    boxes, present = boxes_from_inst_map(inst, n)
    masks = masks_from_inst_map(inst, n)
    expected = BitmapMasks(masks, *inst.shape).get_bboxes('hbox').numpy()
    np.testing.assert_array_equal(boxes, expected)
    np.testing.assert_array_equal(present, masks.any(axis=(1, 2)))
    keep = present.copy()
    keep[0] = False
    relabeled = relabel_inst_map(inst, keep)
    assert relabeled.max() <= keep.sum()
    assert not relabeled[inst == 1].any()


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 50), st.integers(1, 50), st.floats(0, 1, exclude_max=True),
    st.floats(0, 1, exclude_max=True), st.data())
def test_window_offset_contains_pixel(h, w, u_y, u_x, data):
    ch, cw = data.draw(st.integers(1, h)), data.draw(st.integers(1, w))
    py, px = data.draw(st.integers(0, h - 1)), data.draw(st.integers(0, w - 1))
    y1, x1 = window_offset((h, w), (ch, cw), u_y, u_x, (py, px))
    assert 0 <= y1 <= h - ch and 0 <= x1 <= w - cw
    assert y1 <= py < y1 + ch and x1 <= px < x1 + cw
    y1, x1 = window_offset((h, w), (ch, cw), u_y, u_x)
    assert 0 <= y1 <= h - ch and 0 <= x1 <= w - cw


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**31 - 1), st.floats(0, 1, exclude_max=True))
def test_sample_region_pixel_is_in_region(seed, u):
    region = np.random.default_rng(seed).random((7, 9)) < 0.2
    picked = sample_region_pixel(region, u)
    if not region.any():
        assert picked is None
    else:
        assert region[picked]


def test_sample_region_pixel_is_uniform():
    region = np.zeros((4, 5), dtype=bool)
    region[0, 0] = region[0, 4] = region[3, 2] = region[1, 1] = True
    us = (np.arange(4000) + 0.5) / 4000
    counts = {}
    for u in us:
        pixel = sample_region_pixel(region, u)
        counts[pixel] = counts.get(pixel, 0) + 1
    assert sorted(counts.values()) == [1000] * 4


def test_invalid_window():
    with pytest.raises(ValueError):
        window_offset((4, 4), (5, 4), 0.1, 0.1)


def test_fractional_box_that_only_touches_is_not_truncated():
    inst = np.zeros((30, 30), dtype=np.int32)
    inst[10:20, 10:20] = 1  # touches the crop's left edge (x1=10)
    inst[22:26, 9:20] = 2  # one pixel column past it
    results = make_results(inst)
    # fractional boxes, as mmdet's box rescaling leaves them
    results['gt_bboxes'] = HorizontalBoxes(
        np.array([[9.6, 10, 20, 20], [9.4, 22, 20, 26]], dtype=np.float32))
    out = fixed_crop(0, 10, (30, 20))(results)
    np.testing.assert_array_equal(out['gt_truncated'],
                                  [[0, 0, 0, 0], [1, 0, 0, 0]])


@settings(max_examples=60, deadline=None)
@given(id_maps_and_windows(), st.floats(0.3, 3.0),
       st.sampled_from([None, 'horizontal', 'vertical', 'diagonal']))
def test_flags_are_pixel_exact_after_resize_and_flip(case, factor, flip):
    from mmpanoptic_cabb.datasets.transforms import (PanopticRandomFlip,
                                                     PanopticResize)
    inst, n, _ = case
    results = PanopticResize(
        scale_factor=factor, keep_ratio=True)(
            make_results(inst))
    if flip is not None:
        results = PanopticRandomFlip(prob=1.0, direction=flip)(results)
    full = results['gt_inst_map'].copy()
    h, w = full.shape
    rng = np.random.default_rng(int(factor * 1000))
    ch, cw = int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1))
    y1, x1 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    labels = results['gt_bboxes_labels'].copy()
    out = fixed_crop(y1, x1, (ch, cw))(results)
    for row, label in enumerate(out['gt_bboxes_labels']):
        k = int(np.flatnonzero(labels == label)[0])
        ys, xs = np.nonzero(full == k + 1)
        cys, cxs = np.nonzero(out['gt_inst_map'] == row + 1)
        expected = [
            xs.min() < x1 and cxs.min() == 0,
            ys.min() < y1 and cys.min() == 0,
            xs.max() >= x1 + cw and cxs.max() == cw - 1,
            ys.max() >= y1 + ch and cys.max() == ch - 1
        ]
        np.testing.assert_array_equal(out['gt_truncated'][row],
                                      expected)
