"""TruncationAwareRandomSampler pairs each positive with its GT's flags."""
import pytest
import torch
from mmdet.models.task_modules.assigners import AssignResult
from mmdet.models.task_modules.samplers import RandomSampler
from mmdet.registry import TASK_UTILS
from mmengine.structures import InstanceData

import mmpanoptic_cabb  # noqa: F401  (registers the modules)
from mmpanoptic_cabb.models.task_modules import TruncationAwareRandomSampler

NUM_PREDS = 40


def _sampler(type_='TruncationAwareRandomSampler', **kwargs):
    cfg = dict(type=type_, num=16, pos_fraction=0.5, neg_pos_ub=-1)
    cfg.update(kwargs)
    return TASK_UTILS.build(cfg, default_args=dict(context=None))


def _gt(num_gts, seed=0, with_flags=True):
    gen = torch.Generator().manual_seed(seed)
    xy = torch.rand(num_gts, 2, generator=gen) * 50
    gt = InstanceData(
        bboxes=torch.cat([xy, xy + 5 + 20 * torch.rand(num_gts, 2)], 1),
        labels=torch.randint(0, 3, (num_gts, ), generator=gen))
    if with_flags:
        gt.truncated = torch.rand(num_gts, 4, generator=gen) < 0.5
    return gt


def _assign(num_gts, seed=0, positives=True):
    """Random assignment of NUM_PREDS priors: 0 background, k > 0 GT k-1."""
    gen = torch.Generator().manual_seed(seed)
    high = num_gts + 1 if positives else 1
    gt_inds = torch.randint(0, high, (NUM_PREDS, ), generator=gen)
    labels = torch.full((NUM_PREDS, ), -1, dtype=torch.long)
    return AssignResult(num_gts, gt_inds, torch.rand(NUM_PREDS), labels)


def _preds(seed=0):
    gen = torch.Generator().manual_seed(seed)
    xy = torch.rand(NUM_PREDS, 2, generator=gen) * 50
    return InstanceData(priors=torch.cat([xy, xy + 10], 1))


def _sample(sampler, assign_result, gt, seed=3):
    torch.manual_seed(seed)
    return sampler.sample(assign_result, _preds(), gt)


def test_builds_from_dict_as_a_random_sampler():
    sampler = _sampler(add_gt_as_proposals=False)
    assert isinstance(sampler, TruncationAwareRandomSampler)
    assert isinstance(sampler, RandomSampler)
    assert (sampler.num, sampler.pos_fraction) == (16, 0.5)
    assert not sampler.add_gt_as_proposals


@pytest.mark.parametrize('add_gt', [False, True])
@pytest.mark.parametrize('seed', range(4))
def test_pos_gt_truncated_is_gathered_like_pos_gt_bboxes(add_gt, seed):
    gt = _gt(5, seed)
    ours = _sample(
        _sampler(add_gt_as_proposals=add_gt), _assign(5, seed), gt, seed)
    plain = _sample(
        _sampler('RandomSampler', add_gt_as_proposals=add_gt),
        _assign(5, seed), gt, seed)
    # same draws as mmdet's RandomSampler
    for key in ('pos_inds', 'neg_inds', 'pos_assigned_gt_inds',
                'pos_gt_bboxes'):
        assert torch.equal(getattr(ours, key), getattr(plain, key)), key
    assert not hasattr(plain, 'pos_gt_truncated')
    assert ours.pos_inds.numel() > 0
    expected = gt.truncated[ours.pos_assigned_gt_inds]
    assert ours.pos_gt_truncated.dtype == torch.bool
    assert torch.equal(ours.pos_gt_truncated, expected)
    if add_gt:  # the GT boxes added as proposals are positives of their own
        assert ours.pos_is_gt.any()


def test_absent_flags_are_false():
    res = _sample(_sampler(), _assign(3), _gt(3, with_flags=False))
    assert res.pos_inds.numel() > 0
    assert res.pos_gt_truncated.shape == (res.pos_inds.numel(), 4)
    assert not res.pos_gt_truncated.any()


@pytest.mark.parametrize('with_flags', [True, False])
def test_image_without_gt(with_flags):
    res = _sample(_sampler(), _assign(0, positives=False),
                  _gt(0, with_flags=with_flags))
    assert res.pos_inds.numel() == 0 and res.neg_inds.numel() > 0
    assert res.pos_gt_truncated.shape == (0, 4)
    assert res.pos_gt_truncated.dtype == torch.bool


def test_no_positives():
    res = _sample(
        _sampler(add_gt_as_proposals=False), _assign(4, positives=False),
        _gt(4))
    assert res.pos_inds.numel() == 0
    assert res.pos_gt_truncated.shape == (0, 4)
