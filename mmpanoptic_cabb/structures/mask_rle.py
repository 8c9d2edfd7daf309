"""COCO run-length encoding of a binary mask given by a region of it.

A mask is often known only inside a rectangle (an instance pasted into its
box): :func:`region_to_rle` encodes the full-image mask from that rectangle
without ever building the full-image array. COCO RLE runs over the image in
column-major order, alternating background and foreground counts, starting
with background.
"""
from typing import Dict, List

import numpy as np
import pycocotools.mask as mask_utils


def region_rle_counts(region: np.ndarray, y0: int, x0: int, height: int,
                      width: int) -> List[int]:
    """Uncompressed COCO RLE counts of a mask that is zero outside a region.

    Args:
        region (np.ndarray): (h, w) bool (or 0/1) values of the mask in the
            rectangle ``[y0, y0 + h) x [x0, x0 + w)``.
        y0 (int): Top row of the rectangle in the image.
        x0 (int): Left column of the rectangle in the image.
        height (int): Image height.
        width (int): Image width.

    Returns:
        list[int]: The counts, as ``pycocotools.mask.encode`` of the
        full-image mask would give them.
    """
    region = np.asarray(region, dtype=bool)
    h, w = region.shape
    if y0 < 0 or x0 < 0 or y0 + h > height or x0 + w > width:
        raise ValueError(f'region {(y0, x0, h, w)} outside the image '
                         f'{(height, width)}')
    rows = np.flatnonzero(region.any(axis=1))
    if rows.size == 0:
        return [height * width]
    cols = np.flatnonzero(region.any(axis=0))
    crop = region[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].T
    y0, x0 = y0 + int(rows[0]), x0 + int(cols[0])
    padded = np.zeros((crop.shape[0], crop.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = crop
    step = np.diff(padded, axis=1)
    start_col, start_row = np.nonzero(step == 1)
    end_col, end_row = np.nonzero(step == -1)
    starts = (x0 + start_col) * height + y0 + start_row
    ends = (x0 + end_col) * height + y0 + end_row
    # runs touching across a column border are one run in column-major order
    joined = np.flatnonzero(starts[1:] == ends[:-1])
    if joined.size:
        starts = np.delete(starts, joined + 1)
        ends = np.delete(ends, joined)
    counts = np.empty(2 * starts.size, dtype=np.int64)
    counts[0::2] = starts - np.concatenate([[0], ends[:-1]])
    counts[1::2] = ends - starts
    tail = height * width - ends[-1]
    return counts.tolist() + ([int(tail)] if tail else [])


def region_to_rle(region: np.ndarray, y0: int, x0: int, height: int,
                  width: int) -> Dict:
    """Compressed COCO RLE of a mask that is zero outside a region.

    Args:
        region (np.ndarray): (h, w) values of the mask in its rectangle.
        y0 (int): Top row of the rectangle.
        x0 (int): Left column of the rectangle.
        height (int): Image height.
        width (int): Image width.

    Returns:
        dict: pycocotools RLE (``size``, ``counts`` bytes), equal to
        ``pycocotools.mask.encode`` of the full-image mask.
    """
    counts = region_rle_counts(region, y0, x0, height, width)
    return mask_utils.frPyObjects([dict(size=[height, width], counts=counts)],
                                  height, width)[0]
