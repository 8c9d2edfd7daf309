"""A NaN loss stops training with an error naming the iteration and the term, after writing
the state of the last good iteration (which is the state an uninterrupted run has there)."""
import os.path as osp

import pytest
import torch
from mmengine.runner import Runner

from mmpanoptic_cabb.structures.errors import NonFiniteLossError
from .resume_utils import (REFERENCE_ITERS, assert_same_weights,
                           tiny_train_cfg, weights)

pytestmark = pytest.mark.slow


def _poison(runner, at_call: int, term: str):
    """Make ``term`` NaN in the ``at_call``-th loss computation."""
    model = runner.model
    original = model.loss
    calls = []

    def loss(*args, **kwargs):
        losses = original(*args, **kwargs)
        calls.append(1)
        if len(calls) == at_call:
            value = losses[term]
            losses[term] = (value * float('nan')) if isinstance(
                value, torch.Tensor) else [v * float('nan') for v in value]
        return losses

    model.loss = loss


def test_nan_loss_stops_after_saving_last_good_state(tiny_synthetic_root,
                                                     tmp_path, reference_run):
    """The run of the shared reference (same config and length), NaN at iteration 2."""
    work = str(tmp_path / 'nan')
    runner = Runner.from_cfg(
        tiny_train_cfg(tiny_synthetic_root, work, REFERENCE_ITERS, 100))
    _poison(runner, at_call=2, term='loss_seg')
    with pytest.raises(NonFiniteLossError) as info:
        runner.train()
    err = info.value
    assert err.iteration == 2
    assert [t.split('=')[0] for t in err.terms] == ['loss_seg']
    assert 'iteration 2' in str(err) and 'loss_seg=nan' in str(err)
    saved = osp.join(work, 'iter_1.pth')
    assert err.checkpoint == saved
    with open(osp.join(work, 'last_checkpoint')) as f:
        assert f.read().strip() == saved
    ckpt = torch.load(saved, map_location='cpu', weights_only=False)
    assert ckpt['meta']['iter'] == 1
    # the weights (and batch-norm statistics) of the uninterrupted run there
    assert_same_weights(ckpt['state_dict'],
                        weights(osp.join(reference_run[0], 'iter_1.pth')))
    assert all(torch.isfinite(v).all() for v in ckpt['state_dict'].values()
               if v.is_floating_point())


def test_check_can_be_switched_off(tiny_synthetic_root, tmp_path):
    cfg = tiny_train_cfg(tiny_synthetic_root, str(tmp_path), 1, 100)
    cfg.train_cfg.check_finite_loss = False
    runner = Runner.from_cfg(cfg)
    _poison(runner, at_call=1, term='loss_seg')
    runner.train()  # the NaN reaches the weights, as with mmengine's loop
    assert runner.iter == 1
    assert any(not torch.isfinite(v).all() for v in weights(runner).values()
               if v.is_floating_point())


def test_check_names_every_bad_term():
    from collections import OrderedDict

    from mmpanoptic_cabb.engine import NonFiniteLossCheck

    def parse(losses):
        log_vars = OrderedDict((k, v.mean()) for k, v in losses.items())
        loss = sum(v for k, v in log_vars.items() if 'loss' in k)
        log_vars['loss'] = loss
        return loss, log_vars

    check = NonFiniteLossCheck(parse)
    good = dict(loss_a=torch.tensor([1.0, 2.0]), acc=torch.tensor(float('nan')))
    loss, _ = check(good)  # a NaN accuracy is no loss
    assert loss.item() == 1.5
    bad = dict(loss_a=torch.tensor(1.0), loss_b=torch.tensor(float('inf')),
               loss_c=torch.tensor(float('nan')))
    with pytest.raises(NonFiniteLossError) as err:
        check(bad)
    assert err.value.terms == ['loss_b=inf', 'loss_c=nan']
    check.enabled = False
    assert not torch.isfinite(check(bad)[0])
