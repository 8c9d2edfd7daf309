"""COCO RLE of a mask given by a region of it equals pycocotools' encode."""
import numpy as np
import pycocotools.mask as mask_utils
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmpanoptic_cabb.structures.mask_rle import region_to_rle


@settings(max_examples=200, deadline=None)
@given(height=st.integers(1, 40), width=st.integers(1, 40),
       data=st.data(), density=st.floats(0, 1))
def test_region_rle_equals_encode_of_full_mask(height, width, data, density):
    y0 = data.draw(st.integers(0, height - 1))
    x0 = data.draw(st.integers(0, width - 1))
    h = data.draw(st.integers(0, height - y0))
    w = data.draw(st.integers(0, width - x0))
    seed = data.draw(st.integers(0, 2**31 - 1))
    region = np.random.default_rng(seed).random((h, w)) < density
    full = np.zeros((height, width), dtype=np.uint8)
    full[y0:y0 + h, x0:x0 + w] = region
    ref = mask_utils.encode(np.asfortranarray(full))
    rle = region_to_rle(region, y0, x0, height, width)
    assert rle['size'] == ref['size'] == [height, width]
    assert rle['counts'] == ref['counts']


def test_region_outside_the_image_raises():
    with pytest.raises(ValueError):
        region_to_rle(np.ones((3, 3), bool), 2, 0, 4, 4)
