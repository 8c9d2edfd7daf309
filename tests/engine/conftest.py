"""Uninterrupted reference trainings shared by the resume and fault tests (one run each per
session): 4 iterations of the tiny CROP+CABB config, a checkpoint after every iteration."""
import pytest
from mmengine.runner import Runner

from .resume_utils import REFERENCE_ITERS, tiny_train_cfg, weights


def _reference(root: str, work: str, workers: int) -> tuple:
    runner = Runner.from_cfg(
        tiny_train_cfg(root, work, REFERENCE_ITERS, 1, workers))
    runner.train()
    return work, weights(runner), runner.optim_wrapper.get_lr()['lr']


@pytest.fixture(scope='session')
def reference_run(tiny_synthetic_root, tmp_path_factory) -> tuple:
    """(work dir with iter_1..4.pth, final weights, final lr), loaders in the main process."""
    return _reference(tiny_synthetic_root,
                      str(tmp_path_factory.mktemp('reference0')), 0)


@pytest.fixture(scope='session')
def reference_run_workers(tiny_synthetic_root, tmp_path_factory) -> tuple:
    """As :func:`reference_run` with 2 persistent loader workers."""
    return _reference(tiny_synthetic_root,
                      str(tmp_path_factory.mktemp('reference2')), 2)
