"""Per-segment COCO ``area`` and ``bbox`` of a segment index map."""
from typing import List, Optional, Tuple

import numpy as np
from scipy import ndimage


def segment_stats(
        seg_index: np.ndarray,
        num_segments: int) -> Tuple[np.ndarray, List[Optional[List[int]]]]:
    """Area and COCO box of every segment index ``1..num_segments``.

    Boxes are ``[x, y, w, h]`` with widths and heights counting pixels
    (``x_max - x_min + 1``), as panopticapi writes them.

    Args:
        seg_index (np.ndarray): (H, W) non-negative integer map; pixels of
            segment ``k`` hold ``k``, 0 marks void.
        num_segments (int): Number of segments ``K``; larger indices are
            counted in no box.

    Returns:
        tuple: areas, an int64 array of shape (K + 1,) indexed by segment
        index (``areas[0]`` counts void), and the boxes, a list of K entries
        (entry ``k - 1`` for segment ``k``; None for segments without
        pixels).
    """
    areas = np.bincount(seg_index.ravel(), minlength=num_segments + 1)
    boxes: List[Optional[List[int]]] = []
    for sl in ndimage.find_objects(
            seg_index.astype(np.int32, copy=False), max_label=num_segments):
        if sl is None:
            boxes.append(None)
        else:
            ys, xs = sl
            boxes.append([
                int(xs.start),
                int(ys.start),
                int(xs.stop - xs.start),
                int(ys.stop - ys.start)
            ])
    return areas, boxes


def renumber_segments(pan: np.ndarray, segment_ids: np.ndarray) -> np.ndarray:
    """Segment id map with the ``K`` given ids renumbered ``1..K``.

    Args:
        pan (np.ndarray): (H, W) integer ids (e.g. ``label + instance * INSTANCE_OFFSET``).
        segment_ids (np.ndarray): The ``K`` ids to keep, sorted increasing.

    Returns:
        np.ndarray: (H, W) uint32 map: ``k + 1`` where ``pan == segment_ids[k]``, 0 elsewhere.
    """
    out = np.zeros(pan.shape, dtype=np.uint32)
    if segment_ids.size:
        pos = np.minimum(np.searchsorted(segment_ids, pan), segment_ids.size - 1)
        found = segment_ids[pos] == pan
        out[found] = pos[found] + 1
    return out
