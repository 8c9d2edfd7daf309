"""Pure choice of a crop window, optionally forced to show a region (CUS 4).

Randomness enters as uniform numbers in ``[0, 1)`` so that the functions are
deterministic and easy to test; the registered crop draws those numbers.
"""
from typing import Optional, Tuple

import numpy as np


def _index(u: float, n: int) -> int:
    """Map a uniform ``u`` in ``[0, 1)`` to an integer in ``[0, n)``."""
    return min(int(u * n), n - 1)


def sample_region_pixel(region: np.ndarray,
                        u: float) -> Optional[Tuple[int, int]]:
    """Pick a pixel of a binary region, uniformly over its pixels.

    Works row-wise (per-row counts, then one row) so that no array of all
    pixel coordinates is ever built.

    Args:
        region (np.ndarray): (H, W) bool (or 0/1) array.
        u (float): Uniform number in ``[0, 1)``.

    Returns:
        tuple[int, int] | None: ``(y, x)`` of the pixel, None if the region
        is empty.
    """
    row_counts = np.count_nonzero(region, axis=1)
    cum = np.cumsum(row_counts)
    total = int(cum[-1]) if cum.size else 0
    if total == 0:
        return None
    rank = _index(u, total)
    y = int(np.searchsorted(cum, rank, side='right'))
    before = int(cum[y - 1]) if y > 0 else 0
    x = int(np.flatnonzero(region[y])[rank - before])
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
