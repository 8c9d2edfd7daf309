"""Tests of the crop-aware box target solver (``cabb_targets``)."""
import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from mmdet.models.task_modules.coders.delta_xywh_bbox_coder import (bbox2delta,
                                                                    delta2bbox)

from mmpanoptic_cabb.models.losses import cabb_targets

STD_CHOICES = [(1., 1., 1., 1.), (0.1, 0.1, 0.2, 0.2), (0.5, 0.3, 2.0, 0.05)]
MEAN_CHOICES = [(0., 0., 0., 0.), (0.05, -0.1, 0.2, -0.3)]
BETA_CHOICES = [1.0, 1. / 9, 0.5, 3.0, 0.02]


def smooth_l1(diff, beta):
    """mmdet's SmoothL1 element-wise, in numpy (float64)."""
    a = np.abs(diff)
    return np.where(a < beta, 0.5 * a * a / beta, a - 0.5 * beta)


def row_objective(pred, out, beta):
    """Per-row sum of SmoothL1 in the normalised space (numpy)."""
    return smooth_l1(np.asarray(pred) - np.asarray(out), beta).sum(-1)


# --------------------------------------------------------------------------
# Brute force, in box-side coordinates, independent of the solver's theory.
# --------------------------------------------------------------------------
def _dim_objective(sides_lo, sides_hi, pred_c, pred_w, beta, mean_c, mean_w,
                   std_c, std_w):
    """Objective of one dimension for boxes with sides (lo, hi) in anchor
    units (centre offset and log width are recomputed from the sides)."""
    with np.errstate(divide='ignore', invalid='ignore'):
        centre = 0.5 * (sides_lo + sides_hi)
        log_w = np.log(sides_hi - sides_lo)
    return (smooth_l1(pred_c - (centre - mean_c) / std_c, beta) +
            smooth_l1(pred_w - (log_w - mean_w) / std_w, beta))


def _golden(fun, lo, hi, iters=120):
    """Golden-section refinement of a vectorised scalar function, run on
    all brackets ``[lo[k], hi[k]]`` at once; returns the best value."""
    ratio = (np.sqrt(5.0) - 1) / 2
    a, b = lo.copy(), hi.copy()
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = fun(c), fun(d)
    for _ in range(iters):
        left = fc < fd
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        c_new = np.where(left, b - ratio * (b - a), d)
        d_new = np.where(left, c, a + ratio * (b - a))
        fc_new = np.where(left, fun(c_new), fd)
        fd_new = np.where(left, fc, fun(d_new))
        c, d, fc, fd = c_new, d_new, fc_new, fd_new
    return min(fc.min(), fd.min())


EXTENSIONS = np.concatenate([[0.0], np.logspace(-12, 26, 9000)])


def brute_force_o1(fun):
    """min over e >= 0 of a vectorised fun(e): dense log grid, then golden
    refinement around every local minimum of the grid values."""
    values = fun(EXTENSIONS)
    padded = np.concatenate([[np.inf], values, [np.inf]])
    local = np.flatnonzero((values <= padded[:-2]) & (values <= padded[2:]))
    lo = EXTENSIONS[np.maximum(local - 1, 0)]
    hi = EXTENSIONS[np.minimum(local + 1, len(EXTENSIONS) - 1)]
    return min(values.min(), _golden(fun, lo, hi))


def brute_force_o2(side_lo, side_hi, pred_c, pred_w, beta, mean_c, mean_w,
                   std_c, std_w):
    """min over boxes with lo <= side_lo and hi >= side_hi.

    For a fixed width ``w = hi - lo >= side_hi - side_lo`` the feasible
    centres form the interval ``[side_hi - w/2, side_lo + w/2]`` and the
    (convex) centre term is minimised by projecting the predicted centre
    onto it; the remaining 1-D problem in the width extension is brute
    forced like O1.
    """
    pred_centre = pred_c * std_c + mean_c

    def fun(extension):
        width = (side_hi - side_lo) + extension
        centre = np.clip(pred_centre, side_hi - width / 2, side_lo + width / 2)
        return _dim_objective(centre - width / 2, centre + width / 2, pred_c,
                              pred_w, beta, mean_c, mean_w, std_c, std_w)

    return brute_force_o1(fun)


def brute_force_row_dim(pred, target, truncated, dim, beta, means, stds):
    """Brute-force minimum of one dimension of one row."""
    mean_c, mean_w = means[dim], means[dim + 2]
    std_c, std_w = stds[dim], stds[dim + 2]
    gt_c = target[dim] * std_c + mean_c
    gt_w = np.exp(target[dim + 2] * std_w + mean_w)
    side_lo, side_hi = gt_c - gt_w / 2, gt_c + gt_w / 2
    free_lo, free_hi = truncated[dim], truncated[dim + 2]

    def fun2(e_lo, e_hi):
        return _dim_objective(side_lo - e_lo, side_hi + e_hi, pred[dim],
                              pred[dim + 2], beta, mean_c, mean_w, std_c,
                              std_w)

    if free_lo and free_hi:
        return brute_force_o2(side_lo, side_hi, pred[dim], pred[dim + 2], beta,
                              mean_c, mean_w, std_c, std_w)
    if free_hi:
        return brute_force_o1(lambda e: fun2(0.0 * e, e))
    if free_lo:
        return brute_force_o1(lambda e: fun2(e, 0.0 * e))
    return float(fun2(0.0, 0.0))


def solver_dim_objective(pred, out, dim, beta):
    return float(
        smooth_l1(pred[dim] - out[dim], beta) +
        smooth_l1(pred[dim + 2] - out[dim + 2], beta))


def _check_against_brute_force(pred, target, truncated, beta, means, stds):
    out = cabb_targets(
        torch.tensor(pred), torch.tensor(target), torch.tensor(truncated),
        beta, means, stds).numpy()
    for i in range(len(pred)):
        for dim in range(2):
            if not (truncated[i, dim] or truncated[i, dim + 2]):
                continue
            ours = solver_dim_objective(pred[i], out[i], dim, beta)
            ref = brute_force_row_dim(pred[i], target[i], truncated[i], dim,
                                      beta, means, stds)
            assert abs(ours - ref) <= 1e-6 * max(abs(ref), 1e-3), (
                f'row {i} dim {dim}: solver {ours!r} vs brute force '
                f'{ref!r} (beta={beta}, stds={stds}, means={means}, '
                f'pred={pred[i]}, target={target[i]}, '
                f'truncated={truncated[i]})')


delta_values = st.floats(-6.0, 6.0, allow_nan=False, allow_infinity=False)
row_deltas = st.lists(delta_values, min_size=4, max_size=4)


@settings(max_examples=120, deadline=None)
@given(
    pred=row_deltas,
    target=row_deltas,
    flags=st.lists(st.booleans(), min_size=4, max_size=4),
    beta=st.sampled_from(BETA_CHOICES),
    stds=st.sampled_from(STD_CHOICES),
    means=st.sampled_from(MEAN_CHOICES))
def test_matches_brute_force_hypothesis(pred, target, flags, beta, stds,
                                        means):
    _check_against_brute_force(
        np.array([pred]), np.array([target]), np.array([flags]), beta, means,
        stds)


@pytest.mark.parametrize('stds', STD_CHOICES)
@pytest.mark.parametrize('beta', [1.0, 1. / 9, 3.0])
def test_matches_brute_force_multimodal(beta, stds):
    """O1/O2 instances with several local minima: the prediction is far
    beyond the truncated side with a tiny or huge predicted width."""
    rng = np.random.default_rng(7)
    n = 6
    target = np.zeros((n, 4))
    target[:, 2:] = rng.normal(0.0, 1.0, (n, 2))
    pred = np.empty((n, 4))
    pred[:, :2] = rng.choice([-1, 1], (n, 2)) * rng.uniform(5, 40, (n, 2))
    pred[:, 2:] = rng.uniform(-25, 25, (n, 2))
    truncated = np.zeros((n, 4), dtype=bool)
    truncated[0::3, 2] = truncated[0::3, 1] = True  # right, top
    truncated[1::3, 0] = truncated[1::3, 3] = True  # left, bottom
    truncated[2::3] = True  # both sides of both dimensions
    _check_against_brute_force(pred, target, truncated, beta, (0., 0., 0., 0.),
                               stds)


# O1 instances (beta, std_c, std_w, p, q, t0) found by random search on
# which a solver lacking one of the split points of the module docstring
# returns a non-global local minimum (one case for each of the split points
# x = p, x = 2 k_B / (gamma k_A), x = nu_1 and z = -alpha).
SPLIT_POINT_CASES = [
    (4.691920001066162, 1.1966325905216493, 0.47568459714905054,
     7.723267170860075, -2.874624242824738, 1.6220936812864848),
    (3.049602392349744, 1.7082595872572115, 0.5365993978908119,
     7.584536260508606, 0.3402918515429797, -0.32908124507009767),
    (16.230431433106425, 1.706122706018702, 0.6691927593759683,
     8.489261911450178, -0.6213718995529813, -3.203110058454027),
    (0.027298572588541327, 0.18184559896126434, 0.13308303713482933,
     2.575027099579762, -0.5919646714179017, 0.7384975973250376),
]


@pytest.mark.parametrize('case', SPLIT_POINT_CASES)
def test_split_point_cases(case):
    """Right side truncated, left side fixed at -e^t0 / 2 (centre 0)."""
    beta, std_c, std_w, p, q, t0 = case
    side_lo = -0.5 * np.exp(t0)
    target = np.array([[0.0, 0.0, t0 / std_w, 0.0]])
    pred = np.array([[(p + side_lo) / std_c, 0.0, q / std_w, 0.0]])
    truncated = np.array([[False, False, True, False]])
    _check_against_brute_force(pred, target, truncated, beta, (0., 0., 0., 0.),
                               (std_c, 1.0, std_w, 1.0))


def _random_boxes(rng, n):
    anchors_xy = rng.uniform(0, 400, (n, 2))
    anchors = np.concatenate(
        [anchors_xy, anchors_xy + rng.uniform(4, 300, (n, 2))], 1)
    gt_xy = anchors_xy + rng.normal(0, 30, (n, 2))
    gts = np.concatenate([gt_xy, gt_xy + rng.uniform(1, 300, (n, 2))], 1)
    return torch.tensor(anchors), torch.tensor(gts)


@pytest.mark.parametrize('stds', STD_CHOICES[:2])
@pytest.mark.parametrize('beta', [1.0, 1. / 9])
def test_feasible_and_not_worse(beta, stds):
    """Decoded with its anchor, the target keeps the untruncated sides of
    the GT box, moves truncated sides only outward, and its objective never
    exceeds that of the original target."""
    rng = np.random.default_rng(0)
    n = 400
    means = (0.02, -0.03, 0.1, -0.1)
    anchors, gts = _random_boxes(rng, n)
    # mmdet encodes in float32; the GT box the loss sees is its decoding.
    target = bbox2delta(anchors, gts, means, stds).double()
    pred = target + torch.tensor(rng.normal(0, 1.5, (n, 4)))
    truncated = torch.tensor(rng.random((n, 4)) < 0.35)
    out = cabb_targets(pred, target, truncated, beta, means, stds)
    gt_boxes, boxes = (
        delta2bbox(anchors, deltas, means, stds, wh_ratio_clip=1e-30)
        for deltas in (target, out))
    scale = (gt_boxes[:, 2:] - gt_boxes[:, :2]).repeat(1, 2) + 1.0
    tol = 1e-9 * scale
    outward = torch.cat(
        [gt_boxes[:, :2] - boxes[:, :2], boxes[:, 2:] - gt_boxes[:, 2:]], 1)
    assert (outward[~truncated].abs() <= tol[~truncated]).all()
    assert (outward[truncated] >= -tol[truncated]).all()
    assert (outward[truncated] > 1e-3).any()
    before = row_objective(pred.numpy(), target.numpy(), beta)
    after = row_objective(pred.numpy(), out.numpy(), beta)
    assert (after <= before + 1e-12).all()
    assert (after < before - 1e-6).any()


def test_untruncated_rows_bitwise_unchanged():
    rng = np.random.default_rng(1)
    pred = torch.tensor(rng.normal(0, 3, (64, 4)), dtype=torch.float32)
    target = torch.tensor(rng.normal(0, 1, (64, 4)), dtype=torch.float32)
    truncated = torch.zeros(64, 4, dtype=torch.bool)
    out = cabb_targets(pred, target, truncated, 1. / 9, stds=STD_CHOICES[1])
    assert torch.equal(out, target)
    assert out.data_ptr() != target.data_ptr()
    # Only x is truncated in half the rows: y columns and other rows stay.
    truncated[::2, 2] = True
    out = cabb_targets(pred, target, truncated, 1. / 9, stds=STD_CHOICES[1])
    assert torch.equal(out[1::2], target[1::2])
    assert torch.equal(out[:, [1, 3]], target[:, [1, 3]])
    assert out.dtype == torch.float32 and not out.requires_grad


def test_prediction_inside_keeps_target():
    """A prediction that does not reach past a truncated side gets the
    original target back exactly (Prop. 4)."""
    target = torch.tensor([[0.0, 0.0, 0.3, 0.3]], dtype=torch.float64)
    pred = torch.tensor([[-0.2, 0.0, -0.5, 0.3]], dtype=torch.float64)
    truncated = torch.tensor([[False, False, True, False]])
    out = cabb_targets(pred, target, truncated)
    assert torch.equal(out, target)


def test_o2_feasible_prediction_is_returned():
    """Both x sides truncated and the prediction covers the GT: the target
    becomes the prediction itself (zero loss on x)."""
    target = torch.tensor([[0.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    pred = torch.tensor([[0.1, 0.5, 0.8, 0.2]], dtype=torch.float64)
    truncated = torch.tensor([[True, False, True, False]])
    out = cabb_targets(pred, target, truncated)
    assert torch.equal(out[:, [0, 2]], pred[:, [0, 2]])
    assert torch.equal(out[:, [1, 3]], target[:, [1, 3]])


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_extreme_inputs_stay_finite(dtype):
    values = [0., 1e-30, -3., 3., 50., -50., 1e6, -1e6, 1e30, -1e30, 3e38]
    combos = torch.tensor(
        list(itertools.product(values, repeat=2)), dtype=dtype)
    n = len(combos)
    pred = torch.stack(
        [combos[:, 0], combos[:, 1], combos[:, 1], combos[:, 0]], 1)
    for target_w, target_c in itertools.product([0., -50., 50., -1e30],
                                                [0., 5., -1e30]):
        target = torch.full((n, 4), target_c, dtype=dtype)
        target[:, 2:] = target_w
        for flags in ([1, 0, 0, 0], [0, 0, 1, 0], [1, 0, 1, 0], [1] * 4):
            truncated = torch.tensor(flags, dtype=torch.bool).expand(n, 4)
            for stds in STD_CHOICES[:2]:
                out = cabb_targets(pred, target, truncated, 1. / 9, stds=stds)
                assert torch.isfinite(out).all(), (target_w, target_c, flags,
                                                   stds)


def test_zero_width_visible_box():
    """A visible GT of zero width (log width -inf) still gets a finite
    target on its truncated dimension."""
    target = torch.tensor([[0.0, 0.0, float('-inf'), 0.0]])
    pred = torch.tensor([[0.2, 0.0, -1.0, 0.0]])
    out = cabb_targets(pred, target, torch.tensor([[False, False, True,
                                                    False]]))
    assert torch.isfinite(out).all()


def _solve_as_is_and_moved(pred, target, truncated, move):
    """Targets (beta 1/9, the second stds) of the inputs as given and after
    ``move`` (e.g. to another layout or device) of each of them."""
    inputs = (pred, target, truncated)
    return tuple(
        cabb_targets(*args, 1. / 9, stds=STD_CHOICES[1])
        for args in (inputs, [move(t) for t in inputs]))


def test_non_contiguous_inputs():
    rng = np.random.default_rng(5)
    pred = torch.tensor(rng.normal(0, 3, (4, 64)), dtype=torch.float32).t()
    target = torch.tensor(rng.normal(0, 1, (64, 8)), dtype=torch.float32)
    target = target[:, ::2]
    truncated = torch.tensor(rng.random((4, 64)) < 0.4).t()
    assert not (pred.is_contiguous() or target.is_contiguous()
                or truncated.is_contiguous())
    out, ref = _solve_as_is_and_moved(pred, target, truncated,
                                      torch.Tensor.contiguous)
    assert torch.equal(out, ref)
    assert not torch.equal(out, target)


def test_input_validation():
    x = torch.zeros(3, 4)
    with pytest.raises(ValueError):
        cabb_targets(x, torch.zeros(2, 4), torch.zeros(3, 4, dtype=bool))
    with pytest.raises(ValueError):
        cabb_targets(x, x, torch.zeros(3, 2, dtype=bool))
    with pytest.raises(ValueError):
        cabb_targets(x, x, torch.zeros(3, 4, dtype=bool), beta=0.0)
    empty = torch.zeros(0, 4)
    assert cabb_targets(empty, empty, empty.bool()).shape == (0, 4)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda_matches_cpu():
    rng = np.random.default_rng(3)
    pred = torch.tensor(rng.normal(0, 3, (512, 4)), dtype=torch.float32)
    target = torch.tensor(rng.normal(0, 1, (512, 4)), dtype=torch.float32)
    truncated = torch.tensor(rng.random((512, 4)) < 0.3)
    cpu, gpu = _solve_as_is_and_moved(pred, target, truncated,
                                      torch.Tensor.cuda)
    assert gpu.device.type == 'cuda'
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-5, atol=1e-5)
