"""Exact resume of epoch-based trainings: a run resumed from a checkpoint written inside an
epoch (or after its last batch) ends bitwise equal to an uninterrupted one (CPU, fixed seed),
and an uninterrupted run is bitwise the one of mmengine's EpochBasedTrainLoop."""
import os.path as osp

import pytest
from mmengine.runner import Runner

from .resume_utils import assert_same_weights, tiny_epoch_cfg, weights

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def uninterrupted(tiny_synthetic_root, tmp_path_factory):
    """2 epochs of 2 iterations, a checkpoint every iteration and the final epoch_2.pth."""
    work = str(tmp_path_factory.mktemp('epochs'))
    cfg = tiny_epoch_cfg(tiny_synthetic_root, work, 2, 1)
    cfg.default_hooks.checkpoint.final_epoch_file = True
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert (runner.epoch, runner.iter) == (2, 4)
    final = osp.join(work, 'epoch_2.pth')
    with open(osp.join(work, 'last_checkpoint')) as f:
        assert f.read().strip() == final
    assert_same_weights(weights(final), weights(osp.join(work, 'iter_4.pth')))
    assert not osp.exists(osp.join(work, 'epoch_1.pth'))
    return work, weights(runner), runner.optim_wrapper.get_lr()['lr']


@pytest.mark.parametrize('stop', [2, 3])
def test_resume_inside_epoch_ends_as_uninterrupted(tiny_synthetic_root,
                                                   tmp_path, uninterrupted,
                                                   stop):
    """iter_3.pth: inside the second epoch; iter_2.pth: after the first epoch's last batch,
    before its end (the checkpoint of an iteration, not of the epoch)."""
    work, final, lr = uninterrupted
    checkpoint = osp.join(work, f'iter_{stop}.pth')
    cfg = tiny_epoch_cfg(tiny_synthetic_root, str(tmp_path), 2, 100)
    cfg.resume = True
    cfg.load_from = checkpoint
    runner = Runner.from_cfg(cfg)
    batches = []
    runner.train_loop.run_iter = _recording(runner.train_loop.run_iter,
                                            batches)
    runner.train()
    assert (runner.epoch, runner.iter) == (2, 4)
    # only the batches not trained on yet, with their index in the epoch
    assert batches == [i % 2 for i in range(stop, 4)]
    assert_same_weights(weights(runner), final)
    assert runner.optim_wrapper.get_lr()['lr'] == lr


@pytest.fixture(scope='module')
def uninterrupted_workers(tiny_synthetic_root, tmp_path_factory):
    """As :func:`uninterrupted` with 2 persistent loader workers."""
    work = str(tmp_path_factory.mktemp('epochs_workers'))
    runner = Runner.from_cfg(
        tiny_epoch_cfg(tiny_synthetic_root, work, 2, 1, num_workers=2))
    runner.train()
    return work, weights(runner)


@pytest.mark.parametrize('stop', [1, 2])
def test_resume_with_persistent_workers(tiny_synthetic_root, tmp_path,
                                        uninterrupted_workers, stop):
    """iter_1.pth: the new workers take the roles shifted by one batch, and are restarted
    in their own roles at the next epoch; iter_2.pth: restarted there with the states of the
    previous epoch's last batches."""
    work, final = uninterrupted_workers
    cfg = tiny_epoch_cfg(tiny_synthetic_root, str(tmp_path), 2, 100,
                         num_workers=2)
    cfg.resume = True
    cfg.load_from = osp.join(work, f'iter_{stop}.pth')
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert (runner.epoch, runner.iter) == (2, 4)
    assert_same_weights(weights(runner), final)


def test_uninterrupted_run_is_mmengines(tiny_synthetic_root, tmp_path,
                                        uninterrupted):
    cfg = tiny_epoch_cfg(tiny_synthetic_root, str(tmp_path), 2, 100,
                         loop='EpochBasedTrainLoop')
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 4
    assert_same_weights(weights(runner), uninterrupted[1])


def _recording(run_iter, indices):
    def run(idx, data_batch):
        indices.append(idx)
        return run_iter(idx, data_batch)
    return run
