"""Pure numpy helpers of the panoptic drawings (no registries, no matplotlib).

- :func:`panoptic_segments`: the segments of a panoptic id map
  (``label + instance * INSTANCE_OFFSET``, void = number of classes);
- :func:`colorize_panoptic`: their colours (a class's palette colour, shifted
  per instance for things) blended over the image;
- :func:`segment_outlines`: the pixels on the border of every thing segment;
- :func:`label_anchor`: a pixel of a segment near its centre to write its name;
- :func:`cabb_feasible_region`: the union of the boxes the CABB loss accepts
  for a truncated ground-truth box (Fig. 3 of the paper), and
  :func:`feasible_bands`: that region outside the visible box, as rectangles.
"""
from typing import List, Sequence, Tuple

import numpy as np

from mmpanoptic_cabb.structures.box_sides import (BOTTOM, LEFT, NUM_SIDES,
                                                  RIGHT, TOP)

#: mmdet's panoptic id stride (``mmdet.evaluation.INSTANCE_OFFSET``).
INSTANCE_OFFSET = 1000


def panoptic_segments(pan: np.ndarray, num_classes: int,
                      num_things: int) -> List[dict]:
    """Segments of a panoptic id map, largest first.

    Args:
        pan (np.ndarray): (H, W) ids ``label + instance * INSTANCE_OFFSET``;
            labels ``>= num_classes`` are void.
        num_classes (int): Number of classes (things then stuff).
        num_things (int): Number of thing classes (labels ``0..T-1``).

    Returns:
        list[dict]: ``id``, ``label``, ``instance``, ``isthing`` and ``area``
        of every non-void segment, by decreasing area.
    """
    ids, areas = np.unique(np.asarray(pan, dtype=np.int64), return_counts=True)
    segments = []
    for seg_id, area in zip(ids.tolist(), areas.tolist()):
        label = seg_id % INSTANCE_OFFSET
        if label >= num_classes or seg_id < 0:
            continue
        segments.append(
            dict(id=int(seg_id), label=int(label),
                 instance=int(seg_id // INSTANCE_OFFSET),
                 isthing=bool(label < num_things), area=int(area)))
    segments.sort(key=lambda s: -s['area'])
    return segments


def instance_color(base: Sequence[int], instance: int) -> Tuple[int, int, int]:
    """A class colour shifted for one instance, deterministic in ``instance``.

    Args:
        base (Sequence[int]): RGB palette colour of the class.
        instance (int): Instance number (0 keeps the colour).

    Returns:
        tuple[int, int, int]: RGB colour within ``[0, 255]``.
    """
    if instance == 0:
        return tuple(int(c) for c in base)
    rng = np.random.default_rng(instance)
    shift = rng.integers(-60, 61, size=3)
    return tuple(int(v) for v in np.clip(np.asarray(base) + shift, 0, 255))


def colorize_panoptic(image: np.ndarray, pan: np.ndarray,
                      segments: Sequence[dict],
                      palette: Sequence[Sequence[int]],
                      alpha: float = 0.6) -> np.ndarray:
    """Blend every segment's colour over the image; void stays as it is.

    Args:
        image (np.ndarray): (H, W, 3) uint8 RGB image.
        pan (np.ndarray): (H, W) panoptic ids.
        segments (Sequence[dict]): From :func:`panoptic_segments`.
        palette (Sequence[Sequence[int]]): RGB colour of every label.
        alpha (float): Opacity of the colours.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB overlay.
    """
    out = image.astype(np.float32).copy()
    for seg in segments:
        mask = pan == seg['id']
        color = np.array(
            instance_color(palette[seg['label']], seg['instance']),
            dtype=np.float32)
        out[mask] = (1 - alpha) * out[mask] + alpha * color
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def segment_outlines(pan: np.ndarray, thing_ids: Sequence[int]) -> np.ndarray:
    """Border pixels of the given segments (4-neighbourhood, inner side).

    Args:
        pan (np.ndarray): (H, W) segment ids.
        thing_ids (Sequence[int]): Ids whose borders are wanted.

    Returns:
        np.ndarray: (H, W) bool, True on a pixel of one of the segments with
        a 4-neighbour of another id or on the image border.
    """
    pan = np.asarray(pan)
    padded = np.pad(pan, 1, mode='constant', constant_values=-1)
    centre = padded[1:-1, 1:-1]
    border = np.zeros(pan.shape, dtype=bool)
    for dy, dx in ((0, 1), (2, 1), (1, 0), (1, 2)):
        border |= padded[dy:dy + pan.shape[0], dx:dx + pan.shape[1]] != centre
    return border & np.isin(pan, np.asarray(list(thing_ids), dtype=pan.dtype))


def label_anchor(mask: np.ndarray) -> Tuple[int, int]:
    """The pixel of a non-empty mask nearest to its centroid.

    Args:
        mask (np.ndarray): (H, W) bool.

    Returns:
        tuple[int, int]: ``(x, y)``, a pixel of the mask.
    """
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        raise ValueError('label_anchor needs a non-empty mask')
    cy, cx = ys.mean(), xs.mean()
    k = int(np.argmin((ys - cy)**2 + (xs - cx)**2))
    return int(xs[k]), int(ys[k])


def cabb_feasible_region(box: Sequence[float], truncated: Sequence[bool],
                         bounds: Sequence[float]) -> Tuple[float, float, float,
                                                           float]:
    """Union of the boxes consistent with a truncated box, within bounds.

    The CABB loss (:mod:`mmpanoptic_cabb.models.losses.cabb_solver`) accepts
    every box whose untruncated sides equal those of the visible box and
    whose truncated sides lie at or beyond the visible ones (``x1' <= x1``
    for a truncated left side, ``x2' >= x2`` for a truncated right one, and
    likewise in y). Each truncated side is free without limit; the union is
    the visible box extended to infinity on its truncated sides, returned
    here clipped to ``bounds`` (e.g. the drawing's canvas).

    Args:
        box (Sequence[float]): ``(x1, y1, x2, y2)`` visible box.
        truncated (Sequence[bool]): Flags ``(left, top, right, bottom)``.
        bounds (Sequence[float]): ``(x1, y1, x2, y2)`` of the drawable area;
            must contain the box.

    Returns:
        tuple[float, float, float, float]: ``(x1, y1, x2, y2)`` of the
        region: the box itself when nothing is truncated.
    """
    if len(truncated) != NUM_SIDES:
        raise ValueError(f'truncated needs {NUM_SIDES} flags, got '
                         f'{len(truncated)}')
    region = [float(v) for v in box]
    for side in (LEFT, TOP, RIGHT, BOTTOM):
        if truncated[side]:
            region[side] = float(bounds[side])
    return tuple(region)


def feasible_bands(box: Sequence[float], region: Sequence[float]
                   ) -> List[Tuple[float, float, float, float]]:
    """The part of a feasible region outside the visible box, as rectangles.

    Args:
        box (Sequence[float]): ``(x1, y1, x2, y2)`` visible box.
        region (Sequence[float]): Its region from
            :func:`cabb_feasible_region` (contains the box).

    Returns:
        list[tuple]: Non-overlapping ``(x1, y1, x2, y2)`` rectangles of
        positive area whose union is ``region`` minus ``box``: the bands left
        and right of the box (full region height) and above and below it
        (box width).
    """
    bx1, by1, bx2, by2 = (float(v) for v in box)
    rx1, ry1, rx2, ry2 = (float(v) for v in region)
    bands = [(rx1, ry1, bx1, ry2), (bx2, ry1, rx2, ry2),
             (bx1, ry1, bx2, by1), (bx1, by2, bx2, ry2)]
    return [b for b in bands if b[2] > b[0] and b[3] > b[1]]
