"""Pure ISUS scale maths: level rule and scale choice."""
import math

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mmpanoptic_cabb.datasets.transforms import ISUSResize
from mmpanoptic_cabb.datasets.transforms.isus_scale import (box_scale,
                                                            isus_scale_factor,
                                                            level_scale_range,
                                                            pyramid_level,
                                                            target_scale)

finest_scales = st.sampled_from([8, 16, 32, 56, 64, 100.5])
level_counts = st.integers(1, 6)


@settings(max_examples=300, deadline=None)
@given(
    instance_scale=st.floats(0.5, 5000),
    finest_scale=finest_scales,
    num_levels=level_counts,
    data=st.data(),
    position=st.floats(0.01, 0.99),
    lo=st.floats(0.05, 1.0),
    hi=st.floats(1.0, 20.0))
def test_scale_choice_lands_on_requested_level(instance_scale, finest_scale,
                                               num_levels, data, position, lo,
                                               hi):
    level = data.draw(st.integers(0, num_levels - 1))
    sigma = isus_scale_factor(instance_scale, level, finest_scale, num_levels,
                              (lo, hi), position)
    assert lo <= sigma <= hi
    unclamped = target_scale(level, finest_scale, num_levels,
                             position) / instance_scale
    if lo < unclamped < hi:
        assert pyramid_level(instance_scale * sigma, finest_scale,
                             num_levels) == level
    elif unclamped <= lo:
        assert sigma == lo
    else:
        assert sigma == hi


@settings(max_examples=200, deadline=None)
@given(
    scale=st.floats(0.5, 1e4),
    finest_scale=finest_scales,
    num_levels=level_counts)
def test_level_rule_ranges(scale, finest_scale, num_levels):
    level = pyramid_level(scale, finest_scale, num_levels)
    assert 0 <= level < num_levels
    lo, hi = level_scale_range(level, finest_scale, num_levels)
    # away from the boundaries (the 1e-6 guard), the level's nominal range
    # holds the scale, except at the open-ended first and last levels
    assume(min(abs(math.log2(scale / lo)), abs(math.log2(scale / hi))) > 1e-5)
    if level > 0:
        assert scale >= lo
    if level < num_levels - 1:
        assert scale < hi


def test_level_rule_matches_mmdet_roi_extractor():
    from mmdet.models.roi_heads.roi_extractors import SingleRoIExtractor
    rng = np.random.default_rng(0)
    for finest_scale, strides in ((56, [4, 8, 16, 32]), (16, [4, 8, 16])):
        extractor = SingleRoIExtractor(
            roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=0),
            out_channels=8,
            featmap_strides=strides,
            finest_scale=finest_scale)
        xy = rng.uniform(0, 500, (2000, 2))
        wh = np.exp(rng.uniform(0, 7.5, (2000, 2)))
        boxes = np.concatenate([xy, xy + wh], axis=1)
        rois = torch.from_numpy(
            np.concatenate([np.zeros((2000, 1)), boxes], axis=1)).float()
        expected = extractor.map_roi_levels(rois, len(strides)).numpy()
        ours = pyramid_level(
            box_scale(rois[:, 1:].numpy()), finest_scale, len(strides))
        # float32 (mmdet) vs float64 (ours) may differ exactly at a boundary
        assert (ours != expected).mean() < 1e-3
        # ISUSResize takes the extractor's config unchanged as its rule.
        resize = ISUSResize(level_rule=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=7),
            out_channels=8,
            featmap_strides=strides,
            finest_scale=finest_scale))
        assert resize.num_levels == extractor.num_inputs == len(strides)
        assert resize.finest_scale == extractor.finest_scale


def test_center_targets_and_validation():
    assert target_scale(0, 56, 4) == pytest.approx(56 * 2**0.5)
    assert target_scale(3, 56, 4) == pytest.approx(56 * 2**3.5)
    assert isus_scale_factor(100.0, 2, 56, 4,
                             (0.01, 100)) == pytest.approx(56 * 2**2.5 / 100)
    np.testing.assert_allclose(box_scale([[0, 0, 4, 9], [5, 5, 1, 1]]), [6, 0])
    with pytest.raises(ValueError):
        level_scale_range(4, 56, 4)
    with pytest.raises(ValueError):
        target_scale(0, 56, 4, position=1.0)
    with pytest.raises(ValueError):
        isus_scale_factor(0.0, 0, 56, 4)
    with pytest.raises(ValueError):
        isus_scale_factor(10.0, 0, 56, 4, clamp=(2, 1))
    with pytest.raises(ValueError):
        pyramid_level(10.0, 0, 4)
