"""ProcessMemoryHook: peak resident memory in the training log scalars."""
from unittest import mock

import pytest
import torch
from mmengine.logging import MessageHub

from mmdet.registry import HOOKS
from mmpanoptic_cabb.engine.process_memory_hook import peak_rss_mb


class _Runner:

    def __init__(self, iteration, max_iters=10):
        self.iter = iteration
        self.max_iters = max_iters
        self.message_hub = MessageHub(f'mem_hook_test_{id(self)}')


def test_peak_rss_is_plausible():
    big = bytearray(64 * 1024 * 1024)  # noqa: F841  (64 MiB kept alive)
    assert 64 <= peak_rss_mb() < 1024 * 1024


@pytest.mark.skipif(torch.cuda.is_available(),
                    reason='with CUDA mmengine logs the memory itself')
def test_hook_sets_train_memory_every_interval():
    hook = HOOKS.build(dict(type='ProcessMemoryHook', interval=2))
    runner = _Runner(iteration=0)  # after iteration 1: not a multiple of 2
    hook.after_train_iter(runner, 0)
    assert 'train/memory' not in runner.message_hub.log_scalars
    runner.iter = 1
    with mock.patch(
            'mmpanoptic_cabb.engine.process_memory_hook.peak_rss_mb',
            return_value=1234.4):
        hook.after_train_iter(runner, 1)
    assert runner.message_hub.get_scalar('train/memory').current() == 1234


def test_hook_is_in_the_runtime_base():
    import os.path as osp

    from mmengine.config import Config

    from tests import REPO_ROOT
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', '_base_',
                                   'default_runtime.py'))
    assert dict(type='ProcessMemoryHook') in cfg.custom_hooks
