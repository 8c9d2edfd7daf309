"""Checkpoints survive kills: a kill while a checkpoint is written (simulated) leaves
``last_checkpoint`` naming the previous complete file; a truncated checkpoint is refused
with its name, and resuming falls back to the previous one only when asked."""
import argparse
import os
import os.path as osp
import shutil

import mmengine.runner.runner as mmengine_runner
import pytest
from mmengine.runner import Runner

from mmpanoptic_cabb.structures.errors import CorruptCheckpointError
from mmpanoptic_cabb.utils.checkpoint import (checkpoint_is_intact,
                                              load_checkpoint_file,
                                              resumable_checkpoint)
from tests import load_tool
from .resume_utils import tiny_train_cfg

pytestmark = pytest.mark.slow


class Killed(BaseException):
    """Stands for the SIGKILL that hits while a checkpoint is written."""


def _last(work):
    with open(osp.join(work, 'last_checkpoint')) as f:
        return f.read().strip()


def test_kill_while_writing_keeps_last_checkpoint(tiny_synthetic_root,
                                                  tmp_path, monkeypatch):
    work = str(tmp_path)
    real_save = mmengine_runner.save_checkpoint
    calls = []

    def dying_save(checkpoint, filename, **kwargs):
        calls.append(filename)
        if len(calls) == 2:  # iteration 2: half the bytes, then the kill
            real_save(checkpoint, filename, **kwargs)
            size = osp.getsize(filename)
            with open(filename, 'r+b') as f:
                f.truncate(size // 2)
            raise Killed
        real_save(checkpoint, filename, **kwargs)

    monkeypatch.setattr(mmengine_runner, 'save_checkpoint', dying_save)
    runner = Runner.from_cfg(tiny_train_cfg(tiny_synthetic_root, work, 2, 1))
    with pytest.raises(Killed):
        runner.train()
    monkeypatch.setattr(mmengine_runner, 'save_checkpoint', real_save)
    assert osp.basename(calls[1]).startswith('.')  # written under a temporary name
    assert not osp.exists(osp.join(work, 'iter_2.pth'))
    assert _last(work) == osp.join(work, 'iter_1.pth')
    assert checkpoint_is_intact(_last(work))
    assert not checkpoint_is_intact(calls[1])

    cfg = tiny_train_cfg(tiny_synthetic_root, work, 2, 1)
    cfg.resume = True
    resumed = Runner.from_cfg(cfg)
    resumed.train()
    assert resumed.iter == 2
    assert _last(work) == osp.join(work, 'iter_2.pth')


@pytest.fixture()
def truncated_latest(reference_run, tmp_path):
    """Checkpoints 1 and 2 of the shared reference run, iter_2.pth then truncated and named
    by ``last_checkpoint``."""
    work = str(tmp_path / 'work')
    os.makedirs(work)
    for k in (1, 2):
        shutil.copy(osp.join(reference_run[0], f'iter_{k}.pth'), work)
    latest = osp.join(work, 'iter_2.pth')
    with open(osp.join(work, 'last_checkpoint'), 'w') as f:
        f.write(latest)
    with open(latest, 'r+b') as f:
        f.truncate(osp.getsize(latest) // 3)
    return work, latest


def test_truncated_checkpoint_is_named(tiny_synthetic_root, truncated_latest):
    work, latest = truncated_latest
    with pytest.raises(CorruptCheckpointError, match='iter_2.pth'):
        load_checkpoint_file(latest)
    cfg = tiny_train_cfg(tiny_synthetic_root, work, 2, 1)
    cfg.resume = True
    with pytest.raises(CorruptCheckpointError, match='--resume-fallback'):
        Runner.from_cfg(cfg).train()


def test_fallback_only_when_asked(tiny_synthetic_root, truncated_latest):
    train = load_tool('', 'train')
    apply_args, build_parser = train.apply_args, train.build_parser
    work, latest = truncated_latest
    assert resumable_checkpoint(work) == osp.join(work, 'iter_1.pth')
    assert resumable_checkpoint(work, latest) == osp.join(work, 'iter_1.pth')
    cfg = tiny_train_cfg(tiny_synthetic_root, work, 2, 1)
    args = build_parser().parse_args(['cfg.py', '--resume'])
    apply_args(cfg, args)
    assert cfg.resume and cfg.load_from is None  # mmengine reads last_checkpoint
    args = build_parser().parse_args(['cfg.py', '--resume',
                                      '--resume-fallback'])
    apply_args(cfg, args)
    assert cfg.load_from == osp.join(work, 'iter_1.pth')
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    with pytest.raises(RuntimeError, match='needs --resume'):
        apply_args(cfg, argparse.Namespace(
            amp=False, auto_scale_lr=False, resume=None,
            resume_fallback=True))


def test_no_intact_checkpoint(tmp_path):
    bad = tmp_path / 'iter_3.pth'
    bad.write_bytes(b'PK\x03\x04 truncated')
    (tmp_path / 'last_checkpoint').write_text(str(bad))
    with pytest.raises(CorruptCheckpointError, match='iter_3.pth'):
        resumable_checkpoint(str(tmp_path))
    assert resumable_checkpoint(str(tmp_path / 'empty')) is None
