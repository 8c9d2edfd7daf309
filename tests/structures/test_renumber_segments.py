"""structures.panoptic_segments.renumber_segments against a per-id reference."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mmpanoptic_cabb.structures.panoptic_segments import renumber_segments


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), num_kept=st.integers(0, 6))
def test_renumber_segments_matches_reference(seed, num_kept):
    rng = np.random.default_rng(seed)
    pan = rng.choice([3, 7, 1000, 1003, 2000, 5001], size=(9, 11)).astype(np.int64)
    ids = np.sort(rng.choice([3, 7, 1000, 1003, 2000, 5001, 9999], size=num_kept,
                             replace=False)).astype(np.int64)
    out = renumber_segments(pan, ids)
    expected = np.zeros(pan.shape, np.uint32)
    for k, segment_id in enumerate(ids):
        expected[pan == segment_id] = k + 1
    assert out.dtype == np.uint32
    np.testing.assert_array_equal(out, expected)
