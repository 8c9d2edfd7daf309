"""Exact resume: a training stopped at any iteration and resumed ends bitwise equal to an
uninterrupted one (CPU, fixed seed), with and without loader workers, also after a SIGKILL;
and an uninterrupted run is bitwise the one of mmengine's IterBasedTrainLoop."""
import os
import os.path as osp
import signal
import subprocess
import sys

import pytest
from mmengine.runner import Runner

from ..tools.tiny_config import REPO_ROOT
from .resume_utils import (assert_same_weights, max_rel_diff, tiny_train_cfg,
                           weights)

pytestmark = pytest.mark.slow


@pytest.fixture()
def uninterrupted(request):
    """The shared reference runs (conftest) by number of workers; only those asked for are
    trained."""
    return {0: lambda: request.getfixturevalue('reference_run'),
            2: lambda: request.getfixturevalue('reference_run_workers')}


def _resume(root, work, checkpoint, workers, loop=None):
    cfg = tiny_train_cfg(root, work, 4, 100, workers)
    if loop is not None:
        cfg.train_cfg.type = loop
    cfg.resume = True
    cfg.load_from = checkpoint
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 4
    return runner


@pytest.mark.parametrize('workers,stop', [(0, 2), (2, 1), (2, 3)])
def test_resume_ends_as_uninterrupted(tiny_synthetic_root, tmp_path,
                                      uninterrupted, workers, stop):
    work, final, lr = uninterrupted[workers]()
    runner = _resume(tiny_synthetic_root, str(tmp_path),
                     osp.join(work, f'iter_{stop}.pth'), workers)
    assert_same_weights(weights(runner), final)
    assert runner.optim_wrapper.get_lr()['lr'] == lr


def test_mmengine_loop_resume_differs(tiny_synthetic_root, tmp_path,
                                      uninterrupted):
    """The cause: mmengine's loop re-seeds the generators on resume (one iteration
    suffices to differ)."""
    work, final, _ = uninterrupted[0]()
    runner = _resume(tiny_synthetic_root, str(tmp_path),
                     osp.join(work, 'iter_3.pth'), 0, loop='IterBasedTrainLoop')
    assert max_rel_diff(weights(runner), final) > 0


@pytest.mark.parametrize('workers', [0, 2])
def test_uninterrupted_run_is_mmengines(tiny_synthetic_root, tmp_path,
                                        uninterrupted, workers):
    cfg = tiny_train_cfg(tiny_synthetic_root, str(tmp_path), 4, 100, workers)
    cfg.train_cfg.type = 'IterBasedTrainLoop'
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert_same_weights(weights(runner), uninterrupted[workers]()[1])


def test_sigkill_then_resume(tiny_synthetic_root, tmp_path, uninterrupted):
    """A tools/train.py run SIGKILLed after iteration 3 (checkpoint at 2) and resumed with
    --resume ends as the uninterrupted run."""
    work = tmp_path / 'killed'
    cfg = tiny_train_cfg(tiny_synthetic_root, str(work), 4, 2, 0)
    cfg.custom_imports = dict(
        imports=['mmpanoptic_cabb', 'tests.engine.kill_hook'],
        allow_failed_imports=False)
    cfg.custom_hooks = [dict(type='SelfKillHook', after_iter=3)]
    cfg_path = tmp_path / 'killed.py'
    cfg.dump(str(cfg_path))
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    cmd = ['nice', '-n', '19', sys.executable,
           osp.join(REPO_ROOT, 'tools', 'train.py'), str(cfg_path),
           '--work-dir', str(work)]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == -signal.SIGKILL, (proc.stdout +
                                                 proc.stderr)[-3000:]
    with open(work / 'last_checkpoint') as f:
        assert f.read().strip() == str(work / 'iter_2.pth')
    assert not (work / 'iter_4.pth').exists()

    resumed = tiny_train_cfg(tiny_synthetic_root, str(work), 4, 2, 0)
    resumed.resume = True  # what --resume sets
    runner = Runner.from_cfg(resumed)
    runner.train()
    assert runner.iter == 4
    assert_same_weights(weights(runner), uninterrupted[0]()[1])
