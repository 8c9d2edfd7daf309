"""Pure maths of the truncation record ``gt_truncated``.

Each instance carries four flags ``(left, top, right, bottom)``, in the
column order of :mod:`mmpanoptic_cabb.structures.box_sides`: that side of
its box was produced by a crop edge rather than by the object itself, so the
true extent of the object lies beyond it (Sec. 2.3). Footnote 2 of the paper:
a box that merely *touches* the crop edge, without extending past it, is not
truncated.

"Extends past" is decided on pixels: a box before the crop that overshoots
an edge by a whole pixel or more certainly has pixels beyond it, one that
does not overshoot certainly has none, and one that overshoots by less than
a pixel (fractional boxes after a resize) is resolved by looking at the
pixel line just outside that edge (:func:`outside_line`). Boxes derived by
mmdet's resizes and flips from tight boxes stay within one pixel of the
instance's pixels, which makes this exact.
"""
from typing import Optional, Tuple

import numpy as np

from mmpanoptic_cabb.structures.box_sides import (FLIP_PERMUTATIONS,
                                                  HIGH_SIDES, LEFT, LOW_SIDES,
                                                  NUM_SIDES, RIGHT, TOP)

Box = Tuple[int, int, int, int]


def overshoot(boxes_before: np.ndarray, crop_box: Box) -> np.ndarray:
    """How far each box extends past each crop edge (negative: inside).

    Args:
        boxes_before (np.ndarray): (N, 4) boxes before the crop.
        crop_box (tuple[int, int, int, int]): ``(x1, y1, x2, y2)`` window.

    Returns:
        np.ndarray: (N, 4) float64 ``(x1 - bx1, y1 - by1, bx2 - x2,
        by2 - y2)`` for the sides ``(left, top, right, bottom)`` (box
        coordinate ``k`` lies on side ``k``).
    """
    before = np.asarray(boxes_before, dtype=np.float64).reshape(-1, 4)
    cx1, cy1, cx2, cy2 = crop_box
    sides = (cx1 - before[:, 0], cy1 - before[:, 1], before[:, 2] - cx2,
             before[:, 3] - cy2)
    return np.stack(sides, axis=1)


def truncated_sides(boxes_before: np.ndarray,
                    boxes_after: np.ndarray,
                    crop_box: Box,
                    beyond: Optional[np.ndarray] = None) -> np.ndarray:
    """Sides of each box that a crop cut.

    A side is truncated when the instance extends strictly past that crop
    edge before the crop AND the box recomputed from the cropped mask
    touches it.

    Args:
        boxes_before (np.ndarray): (N, 4) boxes before the crop, in the
            coordinates of the uncropped image.
        boxes_after (np.ndarray): (N, 4) boxes recomputed from the cropped
            masks, in crop coordinates (``x2``/``y2`` exclusive, i.e. the
            mmdet ``from_instance_masks`` convention).
        crop_box (tuple[int, int, int, int]): ``(x1, y1, x2, y2)`` of the
            crop window in uncropped coordinates.
        beyond (np.ndarray, optional): (N, 4) bool, whether the instance
            extends past each edge (e.g. resolved from its pixels). Defaults
            to ``overshoot(boxes_before, crop_box) > 0``.

    Returns:
        np.ndarray: (N, 4) bool flags ``(left, top, right, bottom)``.
    """
    after = np.asarray(boxes_after, dtype=np.float64).reshape(-1, 4)
    if beyond is None:
        beyond = overshoot(boxes_before, crop_box) > 0
    assert beyond.shape == after.shape, (beyond.shape, after.shape)
    crop_w, crop_h = crop_box[2] - crop_box[0], crop_box[3] - crop_box[1]
    # Box coordinate k lies on side k: (x1, y1) on the low sides, (x2, y2)
    # on the high sides.
    low, high = list(LOW_SIDES), list(HIGH_SIDES)
    touches = np.zeros(after.shape, dtype=bool)
    touches[:, low] = after[:, low] <= 0
    touches[:, high] = after[:, high] >= np.array([crop_w, crop_h])
    return np.asarray(beyond, dtype=bool) & touches


def outside_line(box: np.ndarray, side: int, crop_box: Box,
                 shape: Tuple[int, int]) -> Tuple[slice, slice]:
    """Pixel line just outside a crop edge, limited to a box's span.

    Args:
        box (np.ndarray): (4,) box of the instance before the crop.
        side (int): A column of
            :mod:`mmpanoptic_cabb.structures.box_sides` (``LEFT``, ``TOP``,
            ``RIGHT`` or ``BOTTOM``).
        crop_box (tuple[int, int, int, int]): The crop window.
        shape (tuple[int, int]): ``(h, w)`` of the uncropped map.

    Returns:
        tuple[slice, slice]: ``(rows, cols)`` index of that line (empty when
        the edge is an image border).
    """
    h, w = shape
    cx1, cy1, cx2, cy2 = crop_box
    rows = slice(
        max(int(np.floor(box[1])) - 1, 0), min(int(np.ceil(box[3])) + 1, h))
    cols = slice(
        max(int(np.floor(box[0])) - 1, 0), min(int(np.ceil(box[2])) + 1, w))
    if side == LEFT:
        return rows, slice(max(cx1 - 1, 0), cx1)
    if side == RIGHT:
        return rows, slice(cx2, min(cx2 + 1, w))
    if side == TOP:
        return slice(max(cy1 - 1, 0), cy1), cols
    return slice(cy2, min(cy2 + 1, h)), cols


def flip_truncation(truncated: np.ndarray, direction: str) -> np.ndarray:
    """Permute truncation flags for a flip (``FLIP_PERMUTATIONS`` of
    :mod:`mmpanoptic_cabb.structures.box_sides`).

    Args:
        truncated (np.ndarray): (N, 4) bool ``(left, top, right, bottom)``.
        direction (str): ``'horizontal'``, ``'vertical'`` or ``'diagonal'``.

    Returns:
        np.ndarray: (N, 4) permuted copy.
    """
    if direction not in FLIP_PERMUTATIONS:
        raise ValueError(f'unknown flip direction {direction!r}')
    perm = list(FLIP_PERMUTATIONS[direction])
    return np.asarray(truncated, dtype=bool)[:, perm]


def empty_truncation(num_instances: int) -> np.ndarray:
    """All-False flags for ``num_instances`` boxes (no crop happened)."""
    return np.zeros((num_instances, NUM_SIDES), dtype=bool)
