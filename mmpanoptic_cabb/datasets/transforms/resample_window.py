"""Pure maths of resizing only a window of an image (deferred resize).

A resize from ``src`` to ``dst`` pixels along one axis is described by its
*taps*: for every output pixel ``d``, the source pixel(s) it reads and their
weights. With OpenCV's conventions (mmcv's ``'cv2'`` backend):

- nearest (``INTER_NEAREST``): ``d`` reads
  ``min(floor(d * (1 / (dst / src))), src - 1)`` (:func:`nearest_taps`);
- bilinear (``INTER_LINEAR``): ``f = (d + 0.5) * (1 / (dst / src)) - 0.5``
  in float32; ``d`` reads ``floor(f)`` and ``floor(f) + 1`` (clipped to the
  image) with weights ``1 - frac(f)`` and ``frac(f)``, which OpenCV also
  keeps as 11-bit fixed-point numbers for 8-bit images
  (:func:`linear_taps`).

Both resizes are separable, so the pixel at ``(Y, X)`` of the resized image
depends only on the row taps of ``Y`` and the column taps of ``X``. A window
``[start, stop)`` of the resized frame is therefore resampled exactly from
the source pixels its taps read: :func:`tap_span` is the window mapped back
to the source, interpolation margin included, and :func:`resample_nearest` /
:func:`resample_linear` compute the window alone, at a cost set by the
window and that span, not by the size of the whole resized image. A flip of
the resized frame reverses the taps (:func:`flip_taps`).

:func:`resample_linear` repeats OpenCV's fixed-point arithmetic for uint8
images (the weights, the integer horizontal pass and the rounding of the
vertical pass), so its output equals ``cv2.resize`` followed by the crop
pixel for pixel; float32 images are interpolated in float32 and agree to
rounding (about 1e-5 relative).

Everything here works on numpy arrays and knows nothing of registries or
results dicts.
"""
from typing import NamedTuple, Tuple, Union

import numpy as np

#: OpenCV's fixed-point scale of the bilinear weights of 8-bit images.
COEF_SCALE = 2048


class LinearTaps(NamedTuple):
    """Bilinear taps of the output pixels of one axis.

    Attributes:
        lo (np.ndarray): (n,) int64 first source pixel read.
        hi (np.ndarray): (n,) int64 second source pixel read.
        weight_lo (np.ndarray): (n,) float32 weight of ``lo``.
        weight_hi (np.ndarray): (n,) float32 weight of ``hi``.
        fixed_lo (np.ndarray): (n,) int32 weight of ``lo`` in units of
            1 / :data:`COEF_SCALE` (8-bit images).
        fixed_hi (np.ndarray): (n,) int32 weight of ``hi`` likewise.
    """
    lo: np.ndarray
    hi: np.ndarray
    weight_lo: np.ndarray
    weight_hi: np.ndarray
    fixed_lo: np.ndarray
    fixed_hi: np.ndarray


Taps = Union[np.ndarray, LinearTaps]


def _check_sizes(src_size: int, dst_size: int) -> None:
    if int(src_size) < 1 or int(dst_size) < 1:
        raise ValueError(f'sizes must be positive, got {src_size} -> '
                         f'{dst_size}')


def nearest_taps(src_size: int, dst_size: int) -> np.ndarray:
    """Source pixel of every output pixel of a nearest-neighbour resize.

    Args:
        src_size (int): Source length along the axis.
        dst_size (int): Resized length.

    Returns:
        np.ndarray: (dst_size,) int64 source indices.
    """
    _check_sizes(src_size, dst_size)
    inv_scale = 1.0 / (dst_size / src_size)
    idx = np.floor(np.arange(dst_size, dtype=np.float64) * inv_scale)
    return np.minimum(idx.astype(np.int64), src_size - 1)


def linear_taps(src_size: int,
                dst_size: int,
                clamp_weights: bool = True) -> LinearTaps:
    """Taps of every output pixel of a bilinear resize.

    Args:
        src_size (int): Source length along the axis.
        dst_size (int): Resized length.
        clamp_weights (bool): Whether an output pixel whose sample point
            lies before the first or past the last source pixel gets weights
            ``(1, 0)`` (OpenCV does so along columns) or keeps its
            fractional weights on the clipped, equal pixels (OpenCV along
            rows). Both give the same value up to fixed-point rounding.
            Defaults to True.

    Returns:
        LinearTaps: The taps.
    """
    _check_sizes(src_size, dst_size)
    inv_scale = 1.0 / (dst_size / src_size)
    pos = ((np.arange(dst_size, dtype=np.float64) + 0.5) * inv_scale -
           0.5).astype(np.float32)
    first = np.floor(pos).astype(np.int64)
    frac = (pos - first.astype(np.float32)).astype(np.float32)
    if clamp_weights:
        before = first < 0
        frac[before], first[before] = 0, 0
        after = first >= src_size - 1
        frac[after], first[after] = 0, src_size - 1
    one = np.float32(1)
    weight_lo = (one - frac).astype(np.float32)
    fixed_lo = np.rint(weight_lo * np.float32(COEF_SCALE)).astype(np.int32)
    fixed_hi = np.rint(frac * np.float32(COEF_SCALE)).astype(np.int32)
    return LinearTaps(
        lo=np.clip(first, 0, src_size - 1),
        hi=np.clip(first + 1, 0, src_size - 1),
        weight_lo=weight_lo,
        weight_hi=frac,
        fixed_lo=fixed_lo,
        fixed_hi=fixed_hi)


def flip_taps(taps: Taps) -> Taps:
    """Taps of the flipped resized axis (output pixel ``d`` becomes
    ``n - 1 - d``)."""
    if isinstance(taps, LinearTaps):
        return LinearTaps(*(a[::-1] for a in taps))
    return taps[::-1]


def window_taps(taps: Taps, start: int, stop: int) -> Taps:
    """Taps of the output pixels ``[start, stop)``."""
    if not 0 <= start < stop <= len(_first(taps)):
        raise ValueError(f'window [{start}, {stop}) outside the axis of '
                         f'{len(_first(taps))} pixels')
    if isinstance(taps, LinearTaps):
        return LinearTaps(*(a[start:stop] for a in taps))
    return taps[start:stop]


def _first(taps: Taps) -> np.ndarray:
    return taps.lo if isinstance(taps, LinearTaps) else taps


def tap_span(taps: Taps) -> Tuple[int, int]:
    """Source range ``[lo, hi)`` read by some taps (the window mapped back
    to the source, interpolation margin included)."""
    if isinstance(taps, LinearTaps):
        return int(taps.lo.min()), int(taps.hi.max()) + 1
    return int(taps.min()), int(taps.max()) + 1


def resample_nearest(src: np.ndarray, rows: np.ndarray,
                     cols: np.ndarray) -> np.ndarray:
    """``src[rows][:, cols]``, reading only the span of the taps.

    Args:
        src (np.ndarray): (h, w, ...) source array (any dtype).
        rows (np.ndarray): Row taps (source row of each output row).
        cols (np.ndarray): Column taps.

    Returns:
        np.ndarray: (len(rows), len(cols), ...) array of ``src``'s dtype.
    """
    r0, r1 = tap_span(rows)
    c0, c1 = tap_span(cols)
    sub = src[r0:r1, c0:c1]
    return np.take(np.take(sub, rows - r0, axis=0), cols - c0, axis=1)


def resample_linear(src: np.ndarray, rows: LinearTaps,
                    cols: LinearTaps) -> np.ndarray:
    """Bilinear resample of a window, OpenCV's arithmetic.

    Horizontal pass first (on the source rows the row taps read), then the
    vertical pass, as ``cv2.resize``. For uint8 the horizontal pass is exact
    integer arithmetic and the vertical pass rounds as OpenCV's vectorised
    kernel, ``((S0 >> 4) * b0 >> 16) + ((S1 >> 4) * b1 >> 16) + 2 >> 2``.

    Args:
        src (np.ndarray): (h, w) or (h, w, c) uint8 or float32 image.
        rows (LinearTaps): Row taps (``clamp_weights=False``, as OpenCV).
        cols (LinearTaps): Column taps (``clamp_weights=True``).

    Returns:
        np.ndarray: (len(rows), len(cols)[, c]) image of ``src``'s dtype.
    """
    if src.dtype not in (np.uint8, np.float32):
        raise TypeError(f'resample_linear supports uint8 and float32 '
                        f'images, got {src.dtype}')
    c0, c1 = tap_span(cols)
    needed, inverse = np.unique(
        np.concatenate([rows.lo, rows.hi]), return_inverse=True)
    sub = np.take(src[:, c0:c1], needed, axis=0)
    trailing = (1, ) * (src.ndim - 2)
    fixed = src.dtype == np.uint8
    w_lo, w_hi = (cols.fixed_lo, cols.fixed_hi) if fixed else \
        (cols.weight_lo, cols.weight_hi)
    acc = np.int32 if fixed else np.float32
    shape = (1, -1) + trailing
    horizontal = (
        np.take(sub, cols.lo - c0, axis=1).astype(acc) * w_lo.reshape(shape) +
        np.take(sub, cols.hi - c0, axis=1).astype(acc) * w_hi.reshape(shape))
    n = len(rows.lo)
    top = np.take(horizontal, inverse[:n], axis=0)
    bottom = np.take(horizontal, inverse[n:], axis=0)
    shape = (-1, 1) + trailing
    if not fixed:
        return (top * rows.weight_lo.reshape(shape) +
                bottom * rows.weight_hi.reshape(shape)).astype(np.float32)
    out = (((top >> 4) * rows.fixed_lo.reshape(shape)) >> 16) + \
        (((bottom >> 4) * rows.fixed_hi.reshape(shape)) >> 16)
    return np.clip((out + 2) >> 2, 0, 255).astype(np.uint8)
