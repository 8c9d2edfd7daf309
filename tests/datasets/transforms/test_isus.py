"""ISUSResize: instance scale-uniform levels, clamping and stuff ranges."""
import numpy as np
import pytest
from scipy.stats import chisquare

from mmdet.structures.bbox import HorizontalBoxes
from mmpanoptic_cabb.datasets.transforms import ISUSResize
from mmpanoptic_cabb.datasets.transforms.isus_scale import (box_scale,
                                                            pyramid_level)
from ..cus_data import STRIDES_4


def one_instance_results(box=(30, 20, 62, 52), h=64, w=96):
    return dict(
        img=np.zeros((h, w, 3), dtype=np.uint8),
        img_shape=(h, w),
        gt_bboxes=HorizontalBoxes(np.array([box], dtype=np.float32)),
        gt_bboxes_labels=np.array([0]),
        gt_ignore_flags=np.array([False]),
        gt_seg_map=np.zeros((h, w), dtype=np.uint8),
        gt_inst_map=np.zeros((h, w), dtype=np.int32),
        sampled_class=0,
        sampled_instance=0)


def isus_levels(transform, draws=400, **kwargs):
    np.random.seed(0)
    levels, targets, sigmas = [], [], []
    for _ in range(draws):
        out = transform(one_instance_results(**kwargs))
        scale = box_scale(out['gt_bboxes'].numpy())[0]
        levels.append(
            pyramid_level(scale, transform.finest_scale, transform.num_levels))
        targets.append(out['isus_level'])
        sigmas.append(out['isus_sigma'])
    return np.array(levels), np.array(targets), np.array(sigmas)


def test_isus_levels_are_uniform_when_clamp_does_not_bind():
    # instance scale 32 after s0; targets 8 * 2**(l + .5): sigma in [.35, 2.9]
    t = ISUSResize(
        short_side=64,
        level_rule=dict(finest_scale=8, featmap_strides=STRIDES_4))
    levels, targets, sigmas = isus_levels(t)
    np.testing.assert_array_equal(levels, targets)
    counts = np.bincount(levels, minlength=4)
    assert chisquare(counts).pvalue > 1e-3, counts
    assert ((sigmas >= 0.25) & (sigmas <= 4.0)).all()
    t = ISUSResize(
        short_side=64,
        level_rule=dict(finest_scale=8, featmap_strides=STRIDES_4),
        level_position='uniform')
    levels, targets, _ = isus_levels(t)
    np.testing.assert_array_equal(levels, targets)


def test_level_rule_changes_isus_targets():
    # 'center': one size per level, the geometric middle of its range
    a = ISUSResize(
        short_side=64,
        level_rule=dict(finest_scale=8, featmap_strides=STRIDES_4),
        level_position='center')
    b = ISUSResize(
        short_side=64,
        level_rule=dict(finest_scale=16, featmap_strides=(8, 16, 32)),
        level_position='center')
    assert (a.num_levels, b.num_levels) == (4, 3)
    _, _, sig_a = isus_levels(a, draws=200)
    levels_b, targets_b, sig_b = isus_levels(b, draws=200)
    np.testing.assert_allclose(
        sorted(set(np.round(sig_a * 32, 3))),
        np.round([8 * 2**(l + .5) for l in range(4)], 3),
        rtol=1e-3)
    np.testing.assert_allclose(
        sorted(set(np.round(sig_b * 32, 3))),
        np.round([16 * 2**(l + .5) for l in range(3)], 3),
        rtol=1e-3)
    np.testing.assert_array_equal(levels_b, targets_b)
    assert set(levels_b) == {0, 1, 2}


def test_clamp_binds_for_extreme_instances():
    t = ISUSResize(
        short_side=64,
        level_rule=dict(finest_scale=56, featmap_strides=STRIDES_4))
    _, targets, sigmas = isus_levels(t, box=(30, 20, 32, 22))
    assert ((sigmas >= 0.25) & (sigmas <= 4.0)).all()
    assert (sigmas == 4.0).all()  # a 2-px instance cannot reach any level


def test_stuff_and_cus_use_stuff_range():
    np.random.seed(0)
    cus = ISUSResize(short_side=64, stuff_range=(0.5, 2.0), isus=False)
    isus = ISUSResize(short_side=64, stuff_range=(0.5, 2.0))
    for _ in range(100):
        out = cus(one_instance_results())
        assert out['isus_level'] == -1 and 0.5 <= out['isus_sigma'] <= 2.0
        stuff = one_instance_results()
        stuff['sampled_class'], stuff['sampled_instance'] = 3, -1
        out = isus(stuff)
        assert out['isus_level'] == -1 and 0.5 <= out['isus_sigma'] <= 2.0
        assert min(out['img'].shape[:2]) == round(64 * out['isus_sigma'])


def test_isus_draws_instance_when_only_class_given():
    np.random.seed(0)
    t = ISUSResize(
        short_side=64,
        level_rule=dict(finest_scale=8, featmap_strides=STRIDES_4))
    results = one_instance_results()
    del results['sampled_instance']
    out = t(results)
    assert out['sampled_instance'] == 0 and out['isus_level'] >= 0
    assert 'finest_scale=8' in repr(t)
    assert 'featmap_strides=(4, 8, 16, 32)' in repr(t)
    with pytest.raises(ValueError):
        ISUSResize(thing_range=(2, 1))
    with pytest.raises(ValueError, match='featmap_strides'):
        ISUSResize(level_rule=dict(featmap_strides=()))


def test_level_rule_has_one_form():
    # the RoI extractor's config (finest_scale, featmap_strides); nothing
    # else: no num_levels, no separate finest_scale / featmap_strides.
    assert ISUSResize().num_levels == 4
    assert ISUSResize(level_rule=dict(featmap_strides=[4, 8])).num_levels == 2
    for other in (dict(num_levels=4), dict(featmap_strides=[4, 8]),
                  dict(finest_scale=56)):
        with pytest.raises(TypeError):
            ISUSResize(**other)


def test_default_position_spreads_sizes_within_each_level():
    # 'uniform' (the default): the instance's size after ISUS is
    # log-uniform inside its level's nominal range [8 * 2**l, 8 * 2**(l+1)),
    # 5 % margins, instead of one fixed size per level.
    t = ISUSResize(
        short_side=64,
        level_rule=dict(finest_scale=8, featmap_strides=STRIDES_4))
    assert t.level_position == 'uniform'
    levels, targets, sigmas = isus_levels(t, draws=400)
    np.testing.assert_array_equal(levels, targets)
    position = np.log2(sigmas * 32 / 8) - levels  # 32: scale after s0
    assert ((position >= 0.05 - 1e-6) & (position <= 0.95 + 1e-6)).all()
    # spread over the level: both halves of every level are hit
    for level in range(4):
        pos = position[levels == level]
        assert (pos < 0.5).sum() > 10 and (pos > 0.5).sum() > 10, level
