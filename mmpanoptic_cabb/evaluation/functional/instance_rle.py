"""COCO RLE encoding of panoptic segments and of predicted instance masks."""
from typing import Dict, List, Sequence

import numpy as np
import pycocotools.mask as mask_utils

from mmpanoptic_cabb.structures.mask_rle import region_rle_counts
from .segment_confusion import map_ids_to_indices


def segments_to_rles(id_map: np.ndarray,
                     segment_ids: Sequence[int]) -> List[Dict]:
    """Encode several segments of an id map as compressed COCO RLEs.

    One pass over the map in column-major order (the order of COCO RLE)
    finds the runs of every id; each segment's RLE is assembled from its runs,
    so no per-segment full-image mask is built.

    Args:
        id_map (np.ndarray): (H, W) integer segment ids.
        segment_ids (Sequence[int]): Ids to encode (absent ids give empty
            masks).

    Returns:
        list[dict]: One pycocotools RLE (``size``, ``counts`` bytes) per id,
        in the order given.
    """
    height, width = id_map.shape
    segment_ids = np.asarray(segment_ids, dtype=np.int64).reshape(-1)
    if segment_ids.size == 0:
        return []
    column_major = np.ascontiguousarray(id_map.T).reshape(-1)
    num = column_major.size
    change = np.empty(num, dtype=bool)
    change[:1] = True
    np.not_equal(column_major[1:], column_major[:-1], out=change[1:])
    starts = np.flatnonzero(change)
    lengths = np.diff(starts, append=num)
    index = map_ids_to_indices(column_major[starts], segment_ids,
                               np.zeros(0, dtype=np.int64), 0)
    keep = index > 0
    order = np.argsort(index[keep], kind='stable')
    seg_of_run = index[keep][order] - 1
    starts, lengths = starts[keep][order], lengths[keep][order]
    ends = starts + lengths
    prev_end = np.zeros_like(starts)
    prev_end[1:] = ends[:-1]
    first = np.ones(seg_of_run.size, dtype=bool)
    first[1:] = seg_of_run[1:] != seg_of_run[:-1]
    prev_end[first] = 0
    interleaved = np.empty(2 * starts.size, dtype=np.int64)
    interleaved[0::2] = starts - prev_end
    interleaved[1::2] = lengths
    bounds = np.searchsorted(seg_of_run, np.arange(segment_ids.size + 1))
    uncompressed = []
    for k in range(segment_ids.size):
        lo, hi = bounds[k], bounds[k + 1]
        tail = num - (ends[hi - 1] if hi > lo else 0)
        counts = interleaved[2 * lo:2 * hi].tolist()
        if tail or not counts:
            counts.append(int(tail))
        uncompressed.append(dict(size=[height, width], counts=counts))
    return mask_utils.frPyObjects(uncompressed, height, width)


def masks_to_rles(masks: np.ndarray) -> List[Dict]:
    """Encode binary masks as compressed COCO RLEs.

    Equal to ``pycocotools.mask.encode`` mask by mask, but only the mask's
    bounding extent is scanned after two reductions, which is much faster on
    multi-megapixel images.

    Args:
        masks (np.ndarray): (N, H, W) boolean or 0/1 masks.

    Returns:
        list[dict]: One RLE per mask.
    """
    masks = np.asarray(masks)
    if masks.shape[0] == 0:
        return []
    height, width = masks.shape[1:]
    uncompressed = [
        dict(
            size=[height, width],
            counts=region_rle_counts(mask, 0, 0, height, width))
        for mask in masks
    ]
    return mask_utils.frPyObjects(uncompressed, height, width)
