"""Pure drawing helpers: panoptic segments, outlines, the CABB feasible region."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mmdet.models.task_modules.coders import DeltaXYWHBBoxCoder
from mmpanoptic_cabb.models.losses.cabb_solver import cabb_targets
from mmpanoptic_cabb.visualization.panoptic_drawing import (
    INSTANCE_OFFSET, cabb_feasible_region, colorize_panoptic, label_anchor,
    panoptic_segments, segment_outlines)


def _pan():
    # 2 things of class 0 (instances 1, 2), stuff class 3, void (label 7)
    pan = np.full((6, 8), 3, dtype=np.int64)
    pan[0:2, 0:3] = 0 + 1 * INSTANCE_OFFSET
    pan[3:6, 4:8] = 0 + 2 * INSTANCE_OFFSET
    pan[5, 0] = 7
    return pan


def test_panoptic_segments_lists_non_void_segments_by_area():
    segments = panoptic_segments(_pan(), num_classes=7, num_things=3)
    assert [(s['id'], s['label'], s['instance'], s['isthing'], s['area'])
            for s in segments] == [
                (3, 3, 0, False, 48 - 6 - 12 - 1),
                (2 * INSTANCE_OFFSET, 0, 2, True, 12),
                (INSTANCE_OFFSET, 0, 1, True, 6),
            ]
    assert panoptic_segments(np.full((3, 3), 7), 7, 3) == []


def test_colorize_keeps_void_and_blends_segments():
    pan = _pan()
    image = np.full((6, 8, 3), 100, dtype=np.uint8)
    palette = [(200, 0, 0)] * 3 + [(0, 0, 200)] * 4
    out = colorize_panoptic(image, pan, panoptic_segments(pan, 7, 3),
                            palette, alpha=0.5)
    assert out[5, 0].tolist() == [100, 100, 100]  # void
    assert out[0, 7].tolist() == [50, 50, 150]  # stuff: 0.5 * 100 + 0.5 * c
    # the two instances of one class get different colours
    assert out[0, 0].tolist() != out[5, 7].tolist()


def test_segment_outlines_are_inner_borders_of_the_given_segments():
    pan = _pan()
    border = segment_outlines(pan, [INSTANCE_OFFSET])
    expected = np.zeros_like(border)
    expected[0:2, 0:3] = True  # a 2x3 segment is all border
    assert np.array_equal(border, expected)
    big = np.zeros((5, 5), dtype=np.int64)
    big[1:4, 1:4] = 1
    ring = segment_outlines(big, [1])
    assert ring.sum() == 8 and not ring[2, 2]


def test_label_anchor_lies_in_the_mask():
    mask = np.zeros((9, 9), dtype=bool)
    mask[0, :] = mask[:, 0] = True  # an L: its centroid is outside it
    x, y = label_anchor(mask)
    assert mask[y, x]
    with pytest.raises(ValueError):
        label_anchor(np.zeros((2, 2), dtype=bool))


def test_feasible_region_extends_only_the_truncated_sides():
    box, bounds = (10, 20, 30, 40), (0, 0, 100, 50)
    assert cabb_feasible_region(box, [False] * 4, bounds) == (10, 20, 30, 40)
    assert cabb_feasible_region(box, [True, False, False, True],
                                bounds) == (0, 20, 30, 50)
    assert cabb_feasible_region(box, [True] * 4, bounds) == bounds
    with pytest.raises(ValueError, match='4 flags'):
        cabb_feasible_region(box, [True], bounds)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.booleans(), min_size=4, max_size=4),
    st.lists(st.floats(-1.5, 1.5), min_size=4, max_size=4),
    st.floats(20, 60), st.floats(20, 60))
def test_boxes_the_cabb_loss_targets_lie_in_the_drawn_region(
        truncated, pred, gw, gh):
    """The region drawn is where the solver's targets are: every target box
    (for any prediction) keeps the untruncated sides and, clipped to the
    canvas, lies inside the region."""
    anchor = torch.tensor([[40., 40., 80., 90.]])
    gt = torch.tensor([[50., 45., 50. + gw, 45. + gh]])
    coder = DeltaXYWHBBoxCoder()
    target = coder.encode(anchor, gt)
    flags = torch.tensor([truncated])
    solved = cabb_targets(torch.tensor([pred]), target, flags)
    box = coder.decode(anchor, solved)[0].double().numpy()
    gt = gt[0].double().numpy()
    bounds = (0.0, 0.0, 300.0, 300.0)
    region = np.array(cabb_feasible_region(gt, truncated, bounds))
    tol = 1e-3 * (1 + np.abs(gt))
    for side in range(4):
        if not truncated[side]:
            assert abs(box[side] - gt[side]) <= tol[side]
    clipped = np.clip(box, 0.0, 300.0)
    assert (clipped[:2] >= region[:2] - tol[:2]).all()
    assert (clipped[2:] <= region[2:] + tol[2:]).all()
    # and the target contains the visible box (truncated sides go outward)
    assert (box[:2] <= gt[:2] + tol[:2]).all()
    assert (box[2:] >= gt[2:] - tol[2:]).all()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.booleans(), min_size=4, max_size=4),
       st.integers(5, 20), st.integers(5, 20), st.integers(1, 10),
       st.integers(1, 10))
def test_bands_tile_the_region_outside_the_box(truncated, x1, y1, w, h):
    from mmpanoptic_cabb.visualization.panoptic_drawing import feasible_bands
    box, bounds = (x1, y1, x1 + w, y1 + h), (0, 0, 40, 40)
    region = cabb_feasible_region(box, truncated, bounds)
    grid = np.zeros((40, 40), dtype=int)
    for bx1, by1, bx2, by2 in feasible_bands(box, region):
        grid[int(by1):int(by2), int(bx1):int(bx2)] += 1
    expected = np.zeros((40, 40), dtype=int)
    rx1, ry1, rx2, ry2 = (int(v) for v in region)
    expected[ry1:ry2, rx1:rx2] = 1
    expected[y1:y1 + h, x1:x1 + w] = 0
    assert np.array_equal(grid, expected)
