"""Pure choice of a crop window, optionally forced to show a region (CUS 4).

Randomness enters as uniform numbers in ``[0, 1)`` so that the functions are
deterministic and easy to test; the registered crop draws those numbers.
"""
from typing import Optional, Tuple

import numpy as np


def _index(u: float, n: int) -> int:
    """Map a uniform ``u`` in ``[0, 1)`` to an integer in ``[0, n)``."""
    return min(int(u * n), n - 1)


def sample_region_pixel(
        region: np.ndarray,
        u: float,
        rows: Optional[np.ndarray] = None,
        cols: Optional[np.ndarray] = None) -> Optional[Tuple[int, int]]:
    """Pick a pixel of a binary region, uniformly over its pixels.

    Works row-wise (per-row counts, then one row) so that no array of all
    pixel coordinates is ever built. With ``rows`` and ``cols`` the region
    is the resampled ``region[rows][:, cols]`` (e.g. a nearest-neighbour
    resize, :func:`.resample_window.nearest_taps`), which is never built
    either: its row counts are those of the source rows weighted by how
    often each source column is read, so the cost is set by ``region``, not
    by the resampled size, and the pixel is the one the resampled region
    would give.

    Args:
        region (np.ndarray): (H, W) bool (or 0/1) array.
        u (float): Uniform number in ``[0, 1)``.
        rows (np.ndarray, optional): Row of ``region`` read by each row of
            the resampled region. Defaults to all rows, in order.
        cols (np.ndarray, optional): Column read by each column, likewise.

    Returns:
        tuple[int, int] | None: ``(y, x)`` of the pixel (in the resampled
        region when ``rows``/``cols`` are given), None if the region is
        empty.
    """
    region = np.asarray(region, dtype=bool)
    if cols is None:
        row_counts = np.count_nonzero(region, axis=1)
    else:
        cols = np.asarray(cols, dtype=np.int64)
        reads = np.bincount(cols, minlength=region.shape[1])
        row_counts = np.zeros(region.shape[0], dtype=np.int64)
        for times in np.unique(reads[reads > 0]):
            row_counts += times * np.count_nonzero(
                region[:, reads == times], axis=1)
    if rows is not None:
        row_counts = row_counts[np.asarray(rows, dtype=np.int64)]
    cum = np.cumsum(row_counts)
    total = int(cum[-1]) if cum.size else 0
    if total == 0:
        return None
    rank = _index(u, total)
    y = int(np.searchsorted(cum, rank, side='right'))
    before = int(cum[y - 1]) if y > 0 else 0
    line = region[y if rows is None else int(rows[y])]
    if cols is not None:
        line = line[cols]
    x = int(np.flatnonzero(line)[rank - before])
    return y, x


def window_offset(img_hw: Tuple[int, int],
                  crop_hw: Tuple[int, int],
                  u_y: float,
                  u_x: float,
                  pixel: Optional[Tuple[int, int]] = None) -> Tuple[int, int]:
    """Top-left corner of a crop window inside the image.

    Without ``pixel`` the corner is uniform over all windows inside the
    image (as mmdet's ``RandomCrop``); with ``pixel`` it is uniform over the
    windows inside the image that contain that pixel.

    Args:
        img_hw (tuple[int, int]): Image ``(h, w)``.
        crop_hw (tuple[int, int]): Window ``(h, w)``, at most the image size.
        u_y (float): Uniform number in ``[0, 1)`` for the row offset.
        u_x (float): Uniform number in ``[0, 1)`` for the column offset.
        pixel (tuple[int, int], optional): ``(y, x)`` the window must hold.

    Returns:
        tuple[int, int]: ``(y1, x1)`` of the window.
    """
    offsets = []
    for size, crop, u, p in zip(img_hw, crop_hw, (u_y, u_x),
                                (None, None) if pixel is None else pixel):
        if crop > size:
            raise ValueError(f'crop {crop_hw} larger than image {img_hw}')
        lo, hi = 0, size - crop
        if p is not None:
            lo, hi = max(lo, p - crop + 1), min(hi, p)
        offsets.append(lo + _index(u, hi - lo + 1))
    return offsets[0], offsets[1]
