"""Tiny trainings for the resume and fault tests."""
import os.path as osp
from typing import Dict

import torch
from mmengine.config import Config
from mmengine.runner import Runner

from ..tools.tiny_config import REPO_ROOT, make_tiny_cfg

#: Length of the shared uninterrupted reference runs (tests/engine/conftest.py).
REFERENCE_ITERS = 4

CABB_CONFIG = osp.join(REPO_ROOT, 'configs', 'synthetic',
                       'seamless_hrnet-slim_crop-256-cabb_1200i_synthetic.py')


def tiny_train_cfg(root: str, work_dir: str, max_iters: int, interval: int,
                   num_workers: int = 0, seed: int = 3) -> Config:
    """The CROP+CABB config on the tiny dataset, a checkpoint every ``interval``, all kept."""
    cfg = make_tiny_cfg(root, work_dir, max_iters=max_iters, with_val=False,
                        config=CABB_CONFIG)
    cfg.default_hooks.checkpoint.interval = interval
    cfg.default_hooks.checkpoint.max_keep_ckpts = -1
    cfg.randomness = dict(seed=seed)
    cfg.train_dataloader.num_workers = num_workers
    cfg.train_dataloader.persistent_workers = num_workers > 0
    return cfg


def weights(runner_or_path) -> Dict[str, torch.Tensor]:
    """The state dict of a runner's model or of a checkpoint file."""
    if isinstance(runner_or_path, Runner):
        model = runner_or_path.model
        model = getattr(model, 'module', model)
        return {k: v.detach().clone() for k, v in model.state_dict().items()}
    return torch.load(runner_or_path, map_location='cpu',
                      weights_only=False)['state_dict']


def max_rel_diff(a: Dict[str, torch.Tensor], b: Dict[str, torch.Tensor]
                 ) -> float:
    """Largest relative difference over the floating tensors of two state dicts."""
    assert a.keys() == b.keys()
    worst = 0.0
    for key, value in a.items():
        if value.is_floating_point():
            diff = (value - b[key]).abs().max().item()
            scale = value.abs().max().item() or 1.0
            worst = max(worst, diff / scale)
    return worst


def assert_same_weights(a: Dict[str, torch.Tensor],
                        b: Dict[str, torch.Tensor]) -> None:
    """Bitwise equality of two state dicts."""
    assert a.keys() == b.keys()
    differ = [k for k in a if not torch.equal(a[k], b[k])]
    assert not differ, (f'{len(differ)} tensors differ, e.g. {differ[:3]}; '
                        f'max relative difference {max_rel_diff(a, b):.3g}')



def tiny_epoch_cfg(root: str, work_dir: str, max_epochs: int, interval: int,
                   num_workers: int = 0, iters_per_epoch: int = 2,
                   loop: str = 'ResumableEpochBasedTrainLoop') -> Config:
    """:func:`tiny_train_cfg` made epoch-based: epochs of ``iters_per_epoch`` batches, a
    checkpoint every ``interval`` iterations (also inside an epoch)."""
    cfg = tiny_train_cfg(root, work_dir, max_epochs * iters_per_epoch,
                         interval, num_workers)
    cfg.train_cfg = dict(type=loop, max_epochs=max_epochs,
                         val_interval=max_epochs)
    loader = cfg.train_dataloader
    loader.sampler = dict(type='ClassUniformSampler', infinite=False)
    loader.dataset.num_samples = iters_per_epoch * loader.batch_size
    return cfg
