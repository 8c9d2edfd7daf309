"""Tests of ``CABBLoss``."""
import pytest
import torch
from mmdet.models.losses import SmoothL1Loss
from mmdet.registry import MODELS

import mmpanoptic_cabb  # noqa: F401  (registers the modules)
from mmpanoptic_cabb.models.losses import CABBLoss, cabb_targets

STDS = (0.1, 0.1, 0.2, 0.2)


def _inputs(n=64, dtype=torch.float64, seed=0):
    gen = torch.Generator().manual_seed(seed)
    target = torch.randn(n, 4, generator=gen, dtype=dtype)
    pred = target + 2 * torch.randn(n, 4, generator=gen, dtype=dtype)
    truncated = torch.rand(n, 4, generator=gen) < 0.4
    return pred, target, truncated


def test_build_from_registry():
    loss = MODELS.build(
        dict(type='CABBLoss', beta=1. / 9, loss_weight=2.0, stds=STDS))
    assert isinstance(loss, CABBLoss)
    assert loss.beta == 1. / 9 and loss.loss_weight == 2.0
    assert loss.coder_stats == ((0., ) * 4, STDS)


@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
@pytest.mark.parametrize('use_weight', [False, True])
def test_equals_smooth_l1_without_truncation(reduction, use_weight):
    pred, target, _ = _inputs(dtype=torch.float32)
    weight = (torch.rand(64, 1) > 0.3).float().expand(64, 4).contiguous() \
        if use_weight else None
    avg_factor = 17.0 if (use_weight and reduction == 'mean') else None
    cabb = CABBLoss(
        beta=1. / 9, loss_weight=1.5, reduction=reduction, stds=STDS)
    plain = SmoothL1Loss(beta=1. / 9, loss_weight=1.5, reduction=reduction)
    for truncated in (None, torch.zeros(64, 4, dtype=torch.bool)):
        p1 = pred.clone().requires_grad_()
        p2 = pred.clone().requires_grad_()
        out1 = cabb(
            p1, target, weight, avg_factor=avg_factor, truncated=truncated)
        out2 = plain(p2, target, weight, avg_factor=avg_factor)
        assert torch.equal(out1, out2)
        out1.sum().backward()
        out2.sum().backward()
        assert torch.equal(p1.grad, p2.grad)


def test_lower_bounds_smooth_l1():
    pred, target, truncated = _inputs(n=256)
    cabb = CABBLoss(beta=1. / 9, reduction='none', stds=STDS)
    plain = SmoothL1Loss(beta=1. / 9, reduction='none')
    ours = cabb(pred, target, truncated=truncated).sum(1)
    ref = plain(pred, target).sum(1)
    assert (ours <= ref + 1e-12).all()
    assert (ours < ref - 1e-3).any()
    untouched = ~truncated.any(1)
    assert torch.equal(ours[untouched], ref[untouched])


def test_extending_past_truncated_side_costs_nothing():
    """GT cut on its right side; the prediction keeps the left side and
    extends further right: the x terms of the loss vanish."""
    means = (0., 0., 0., 0.)
    gt_w, pred_w = torch.tensor(0.5).log(), torch.tensor(1.5).log()
    # left side at -0.25 for both: centre = left + width / 2
    target = torch.tensor([[0.0, 0.1, gt_w / 0.2, 0.3]], dtype=torch.float64)
    pred = torch.tensor([[0.5 / 0.1, 0.4, pred_w / 0.2, -0.2]],
                        dtype=torch.float64)
    truncated = torch.tensor([[False, False, True, False]])
    loss = CABBLoss(beta=1. / 9, reduction='none', means=means, stds=STDS)
    values = loss(pred, target, truncated=truncated)
    assert values[0, 0].abs() < 1e-12 and values[0, 2].abs() < 1e-12
    assert values[0, 1] > 0 and values[0, 3] > 0
    # A prediction stopping short of the cut side is penalised as usual.
    short = pred.clone()
    short[0, 0], short[0, 2] = -0.05 / 0.1, torch.tensor(0.4).log() / 0.2
    plain = SmoothL1Loss(beta=1. / 9, reduction='none')
    assert torch.equal(
        loss(short, target, truncated=truncated), plain(short, target))


def test_zero_weight_rows_are_not_solved():
    pred, target, truncated = _inputs(n=32)
    weight = torch.ones(32, 4, dtype=torch.float64)
    weight[::2] = 0
    loss = CABBLoss(beta=1. / 9, reduction='none', stds=STDS)
    values = loss(pred, target, weight, truncated=truncated)
    assert torch.equal(values[::2], torch.zeros_like(values[::2]))
    solved = loss(pred, target, truncated=truncated)
    torch.testing.assert_close(values[1::2], solved[1::2], rtol=0, atol=0)


def _min_loss(pred, target, truncated, beta):
    """min over the CABB set of the SmoothL1 sum (the CABB loss value)."""
    solved = cabb_targets(pred, target, truncated, beta, stds=STDS)
    diff = (pred - solved).abs()
    return torch.where(diff < beta, 0.5 * diff * diff / beta,
                       diff - 0.5 * beta).sum()


@pytest.mark.parametrize('beta', [1. / 9, 1.0])
def test_gradient_matches_finite_differences(beta):
    pred, target, truncated = _inputs(n=24, seed=3)
    truncated[:, 0] |= torch.arange(24) % 3 == 0
    loss = CABBLoss(beta=beta, reduction='sum', stds=STDS)
    pred_var = pred.clone().requires_grad_()
    loss(pred_var, target, truncated=truncated).backward()
    value = _min_loss(pred, target, truncated, beta)
    torch.testing.assert_close(
        loss(pred, target, truncated=truncated), value, rtol=0, atol=0)
    step = 1e-6
    numeric = torch.zeros_like(pred)
    for i in range(pred.size(0)):
        for j in range(4):
            delta = torch.zeros_like(pred)
            delta[i, j] = step
            numeric[i, j] = (
                _min_loss(pred + delta, target, truncated, beta) -
                _min_loss(pred - delta, target, truncated, beta)) / (2 * step)
    torch.testing.assert_close(pred_var.grad, numeric, rtol=1e-5, atol=1e-6)


def test_bind_coder_stats():
    loss = CABBLoss()
    assert loss.coder_stats == ((0., ) * 4, (1., ) * 4)
    loss.bind_coder_stats((0., ) * 4, STDS)
    assert loss.coder_stats == ((0., ) * 4, STDS)
    loss.bind_coder_stats([0, 0, 0, 0], list(STDS))  # same values: fine
    with pytest.raises(ValueError):
        loss.bind_coder_stats((0., ) * 4, (1., ) * 4)
