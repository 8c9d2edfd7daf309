"""A resize recorded in the results dict and carried out window by window.

``ISUSResize(lazy=True)`` does not resize the pixels: it records the target
size in ``results['pending_resize']`` and resizes what is cheap (boxes,
``img_shape``, ``scale_factor``, the homography). The image, ``gt_seg_map``
and ``gt_inst_map`` stay at source resolution. From then on the results
describe the *resized frame*: ``img_shape`` and every box are in its
coordinates, only the pixel arrays are still the source's.

- :class:`PanopticRandomFlip` flips the resized frame: boxes as usual, the
  pixel arrays not at all; the flip is recorded in the pending resize.
- :class:`TruncationAwareRandomCrop` draws its window in the resized frame
  (same random draws as on resized arrays) and resizes only the window:
  :func:`crop_pending` (geometry in :mod:`.resample_window`).
- Any other consumer of pixels must call :func:`apply_pending_resize`
  first, which resizes (and flips) the whole arrays as the eager path does;
  :class:`InstMapToMasks`, :class:`PackPanopticInputs`,
  :class:`PanopticResize` and :class:`ISUSResize` do so. mmdet's own
  transforms do not: put none of them between ``ISUSResize(lazy=True)`` and
  the crop.

The pending record is a plain dict ``{'scale': (w, h), 'interpolation':
str, 'flip_horizontal': bool, 'flip_vertical': bool}`` so that results stay
copyable and picklable.
"""
from typing import Optional, Tuple

import mmcv
import numpy as np

from .resample_window import (flip_taps, linear_taps, nearest_taps,
                              resample_linear, resample_nearest, window_taps)

#: Results key of the pending resize.
PENDING_KEY = 'pending_resize'
#: Pixel arrays a pending resize applies to (nearest for the maps).
MAP_KEYS = ('gt_seg_map', 'gt_inst_map')
#: Interpolations of the image a pending resize can carry out by windows.
WINDOW_INTERPOLATIONS = ('nearest', 'bilinear')
#: Image dtypes a pending bilinear resize can carry out by windows.
WINDOW_DTYPES = (np.uint8, np.float32)


def can_defer(results: dict, interpolation: str, backend: str) -> bool:
    """Whether the resize of these results can be deferred.

    Only the cv2 backend with nearest / bilinear interpolation of a uint8 or
    float32 image is reproduced window by window, and ``gt_masks`` (full
    per-instance masks) are not carried.
    """
    img = results.get('img', None)
    return (backend == 'cv2' and interpolation in WINDOW_INTERPOLATIONS
            and img is not None and img.dtype in WINDOW_DTYPES
            and results.get('gt_masks', None) is None)


def set_pending(results: dict, scale: Tuple[int, int],
                interpolation: str) -> None:
    """Record a resize of the pixel arrays to ``scale`` = ``(w, h)``."""
    results[PENDING_KEY] = dict(
        scale=(int(scale[0]), int(scale[1])),
        interpolation=interpolation,
        flip_horizontal=False,
        flip_vertical=False)


def has_pending(results: dict) -> bool:
    """Whether the results carry a pending resize."""
    return results.get(PENDING_KEY, None) is not None


def flip_pending(results: dict, direction: str) -> None:
    """Record a flip of the resized frame."""
    if direction not in ('horizontal', 'vertical', 'diagonal'):
        raise ValueError(f'unknown flip direction {direction!r}')
    pending = results[PENDING_KEY]
    if direction in ('horizontal', 'diagonal'):
        pending['flip_horizontal'] = not pending['flip_horizontal']
    if direction in ('vertical', 'diagonal'):
        pending['flip_vertical'] = not pending['flip_vertical']


def pending_shape(results: dict) -> Tuple[int, int]:
    """``(h, w)`` of the resized frame."""
    w, h = results[PENDING_KEY]['scale']
    return h, w


class PendingFrame:
    """Taps of the resized (and flipped) frame of a pending resize.

    Args:
        results (dict): Results with a pending resize; the source size is
            that of ``results['img']``.
    """

    def __init__(self, results: dict) -> None:
        pending = results[PENDING_KEY]
        self.src_hw = tuple(results['img'].shape[:2])
        self.shape = pending_shape(results)
        self.interpolation = pending['interpolation']
        self.flips = (pending['flip_vertical'], pending['flip_horizontal'])

    def nearest(self, axis: int) -> np.ndarray:
        """Nearest taps of axis 0 (rows) or 1 (columns), flips applied."""
        taps = nearest_taps(self.src_hw[axis], self.shape[axis])
        return flip_taps(taps) if self.flips[axis] else taps

    def linear(self, axis: int):
        """Bilinear taps of an axis as OpenCV (weights clamped on columns
        only), flips applied."""
        taps = linear_taps(
            self.src_hw[axis], self.shape[axis], clamp_weights=axis == 1)
        return flip_taps(taps) if self.flips[axis] else taps

    def view(self, src: np.ndarray) -> 'ResampledMap':
        """Read-only nearest-resized view of a source map."""
        return ResampledMap(src, self.nearest(0), self.nearest(1))


class ResampledMap:
    """A map resized with nearest taps, materialised only where indexed.

    Supports ``shape`` and indexing by two slices (step 1), which is what
    the crop's truncation test reads of the full id map.

    Args:
        src (np.ndarray): (h, w) source map.
        rows (np.ndarray): Row taps.
        cols (np.ndarray): Column taps.
    """

    def __init__(self, src: np.ndarray, rows: np.ndarray,
                 cols: np.ndarray) -> None:
        self.src, self.rows, self.cols = src, rows, cols
        self.shape = (len(rows), len(cols))

    def __getitem__(self, index: Tuple[slice, slice]) -> np.ndarray:
        row_sl, col_sl = index
        rows, cols = self.rows[row_sl], self.cols[col_sl]
        if rows.size == 0 or cols.size == 0:
            return np.zeros((rows.size, cols.size), dtype=self.src.dtype)
        return resample_nearest(self.src, rows, cols)


def crop_pending(results: dict, window: Tuple[int, int, int, int]) -> None:
    """Resize only ``window`` of the image and maps and clear the pending
    resize.

    Equals resizing the whole arrays (``mmcv.imresize``, cv2 backend),
    flipping them as recorded and cropping ``window``: exactly for the maps
    (nearest) and for uint8 images, to float32 rounding for float32 images.

    Args:
        results (dict): Results with a pending resize.
        window (tuple[int, int, int, int]): ``(y1, y2, x1, x2)`` in the
            resized frame.
    """
    frame = PendingFrame(results)
    y1, y2, x1, x2 = window
    rows = window_taps(frame.nearest(0), y1, y2)
    cols = window_taps(frame.nearest(1), x1, x2)
    if frame.interpolation == 'nearest':
        results['img'] = resample_nearest(results['img'], rows, cols)
    else:
        results['img'] = resample_linear(results['img'],
                                         window_taps(frame.linear(0), y1, y2),
                                         window_taps(frame.linear(1), x1, x2))
    for key in MAP_KEYS:
        if results.get(key, None) is not None:
            results[key] = resample_nearest(results[key], rows, cols)
    results['img_shape'] = results['img'].shape[:2]
    del results[PENDING_KEY]


def apply_pending_resize(results: dict) -> dict:
    """Carry out a pending resize on the whole arrays (the eager path).

    ``mmcv.imresize`` (cv2) of the image and, with nearest, of the maps, then
    the recorded flips with ``mmcv.imflip``; nothing when no resize is
    pending.

    Args:
        results (dict): The results.

    Returns:
        dict: The same results, resized.
    """
    if not has_pending(results):
        return results
    pending = results.pop(PENDING_KEY)
    direction = _direction(pending['flip_horizontal'],
                           pending['flip_vertical'])
    for key, interpolation in (('img', pending['interpolation']), ) + tuple(
        (k, 'nearest') for k in MAP_KEYS):
        if results.get(key, None) is None:
            continue
        array = mmcv.imresize(
            results[key],
            pending['scale'],
            interpolation=interpolation,
            backend='cv2')
        if direction is not None:
            array = mmcv.imflip(array, direction=direction)
        results[key] = array
    results['img_shape'] = results['img'].shape[:2]
    return results


def _direction(horizontal: bool, vertical: bool) -> Optional[str]:
    if horizontal and vertical:
        return 'diagonal'
    if horizontal:
        return 'horizontal'
    if vertical:
        return 'vertical'
    return None
