"""Window resampling: taps equal OpenCV's resize, windows read only their
span, resampled regions are sampled without being built."""
import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmpanoptic_cabb.datasets.transforms.crop_window import \
    sample_region_pixel
from mmpanoptic_cabb.datasets.transforms.resample_window import (
    flip_taps, linear_taps, nearest_taps, resample_linear, resample_nearest,
    tap_span, window_taps)

sizes = st.integers(1, 90)
scaled_sizes = st.integers(1, 300)


def _taps(src_hw, dst_hw, interpolation):
    if interpolation == 'nearest':
        return (nearest_taps(src_hw[0], dst_hw[0]),
                nearest_taps(src_hw[1], dst_hw[1]))
    return (linear_taps(src_hw[0], dst_hw[0], clamp_weights=False),
            linear_taps(src_hw[1], dst_hw[1]))


def _resample(src, rows, cols, interpolation):
    if interpolation == 'nearest':
        return resample_nearest(src, rows, cols)
    return resample_linear(src, rows, cols)


@settings(max_examples=150, deadline=None)
@given(h=sizes, w=sizes, dh=scaled_sizes, dw=scaled_sizes)
def test_nearest_taps_equal_cv2_resize(h, w, dh, dw):
    index = np.arange(h * w, dtype=np.int32).reshape(h, w)
    ref = cv2.resize(index, (dw, dh), interpolation=cv2.INTER_NEAREST)
    rows, cols = nearest_taps(h, dh), nearest_taps(w, dw)
    np.testing.assert_array_equal(resample_nearest(index, rows, cols), ref)


@settings(max_examples=150, deadline=None)
@given(h=sizes, w=sizes, dh=scaled_sizes, dw=scaled_sizes,
       channels=st.sampled_from([0, 1, 3]), seed=st.integers(0, 2**31 - 1))
def test_linear_resample_equals_cv2_resize_on_uint8(h, w, dh, dw, channels,
                                                    seed):
    shape = (h, w) if channels == 0 else (h, w, channels)
    img = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    ref = cv2.resize(img, (dw, dh), interpolation=cv2.INTER_LINEAR)
    rows, cols = _taps((h, w), (dh, dw), 'bilinear')
    out = resample_linear(img, rows, cols)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, ref.reshape(out.shape))


@settings(max_examples=60, deadline=None)
@given(h=sizes, w=sizes, dh=scaled_sizes, dw=scaled_sizes,
       seed=st.integers(0, 2**31 - 1))
def test_linear_resample_matches_cv2_resize_on_float32(h, w, dh, dw, seed):
    img = np.random.default_rng(seed).random((h, w, 3), dtype=np.float32)
    ref = cv2.resize(img * 255, (dw, dh), interpolation=cv2.INTER_LINEAR)
    rows, cols = _taps((h, w), (dh, dw), 'bilinear')
    out = resample_linear(img * 255, rows, cols)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-2)


@settings(max_examples=200, deadline=None)
@given(h=sizes, w=sizes, dh=scaled_sizes, dw=scaled_sizes,
       interpolation=st.sampled_from(['nearest', 'bilinear']),
       flip_y=st.booleans(), flip_x=st.booleans(), data=st.data())
def test_window_equals_crop_of_flipped_full_resize(h, w, dh, dw,
                                                   interpolation, flip_y,
                                                   flip_x, data):
    """Exact offsets: a window of the resized, flipped frame is computed
    from the source pixels of its tap span alone."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31 - 1)))
    img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    code = cv2.INTER_NEAREST if interpolation == 'nearest' else \
        cv2.INTER_LINEAR
    full = cv2.resize(img, (dw, dh), interpolation=code)
    if flip_y:
        full = full[::-1]
    if flip_x:
        full = full[:, ::-1]
    y1 = data.draw(st.integers(0, dh - 1))
    y2 = data.draw(st.integers(y1 + 1, dh))
    x1 = data.draw(st.integers(0, dw - 1))
    x2 = data.draw(st.integers(x1 + 1, dw))
    rows, cols = _taps((h, w), (dh, dw), interpolation)
    rows = flip_taps(rows) if flip_y else rows
    cols = flip_taps(cols) if flip_x else cols
    rows, cols = window_taps(rows, y1, y2), window_taps(cols, x1, x2)
    # only the span is read: garbage elsewhere changes nothing
    (r0, r1), (c0, c1) = tap_span(rows), tap_span(cols)
    assert 0 <= r0 < r1 <= h and 0 <= c0 < c1 <= w
    poisoned = np.full_like(img, 77)
    poisoned[r0:r1, c0:c1] = img[r0:r1, c0:c1]
    out = _resample(poisoned, rows, cols, interpolation)
    np.testing.assert_array_equal(out, full[y1:y2, x1:x2])


@settings(max_examples=200, deadline=None)
@given(w=sizes, dw=scaled_sizes, clamp=st.booleans(), data=st.data())
def test_span_is_the_window_preimage_plus_the_interpolation_margin(
        w, dw, clamp, data):
    """Window ``[start, stop)`` of the resized axis reads the source pixels
    from under its first sample point to one past its last one."""
    start = data.draw(st.integers(0, dw - 1))
    stop = data.draw(st.integers(start + 1, dw))

    def point(d):  # OpenCV's sample point of output pixel d, in float32
        return np.float32((d + 0.5) * (1.0 / (dw / w)) - 0.5)

    def clip(x):
        return min(max(x, 0), w - 1)

    last = int(np.floor(point(stop - 1)))
    if clamp:  # a point before the first pixel reads pixels 0 and 1
        last = max(last, 0)
    linear = window_taps(linear_taps(w, dw, clamp), start, stop)
    assert tap_span(linear) == (clip(int(np.floor(point(start)))),
                                clip(last + 1) + 1)
    nearest = window_taps(nearest_taps(w, dw), start, stop)
    assert tap_span(nearest) == (min(int(start * (1.0 / (dw / w))), w - 1),
                                 min(int((stop - 1) * (1.0 / (dw / w))),
                                     w - 1) + 1)


def test_invalid_windows_and_sizes_raise():
    with pytest.raises(ValueError):
        nearest_taps(0, 4)
    with pytest.raises(ValueError):
        window_taps(nearest_taps(4, 8), 3, 9)
    with pytest.raises(TypeError):
        resample_linear(
            np.zeros((4, 4), np.int32), linear_taps(4, 4), linear_taps(4, 4))


@settings(max_examples=200, deadline=None)
@given(h=st.integers(1, 25), w=st.integers(1, 25), dh=st.integers(1, 80),
       dw=st.integers(1, 80), density=st.floats(0, 1),
       u=st.floats(0, 1, exclude_max=True), flip=st.booleans(),
       seed=st.integers(0, 2**31 - 1))
def test_resampled_region_pixel_equals_pixel_of_built_region(
        h, w, dh, dw, density, u, flip, seed):
    region = np.random.default_rng(seed).random((h, w)) < density
    rows, cols = nearest_taps(h, dh), nearest_taps(w, dw)
    if flip:
        rows, cols = flip_taps(rows), flip_taps(cols)
    built = resample_nearest(region, rows, cols)
    assert sample_region_pixel(region, u, rows, cols) == \
        sample_region_pixel(built, u)
