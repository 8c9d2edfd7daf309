"""Helpers that shrink a training config to a few seconds on CPU, on the tiny test dataset."""
import os.path as osp

from mmengine.config import Config

from mmpanoptic_cabb.utils import setup_runtime_cfg
from tests import REPO_ROOT

DEMO_CONFIG = osp.join(
    REPO_ROOT, 'configs', 'synthetic',
    'seamless_hrnet-slim_crop-256_1200i_synthetic.py')


SYNTHETIC_VARIANTS = [
    osp.join(REPO_ROOT, 'configs', 'synthetic', name) for name in (
        'seamless_hrnet-slim_crop-256-cabb_1200i_synthetic.py',
        'seamless_hrnet-slim_crop-256-isus_1200i_synthetic.py',
        'seamless_hrnet-slim_crop-256-cabb-isus_1200i_synthetic.py',
        'seamless_hrnet-slim_full_1200i_synthetic.py',
    )
]


def _retarget_pipeline(pipeline: list, s0: int, crop: int) -> None:
    for step in pipeline:
        if step['type'] in ('RandomResize', 'Resize'):
            step['scale'] = (s0 * 8, s0)
        if 'short_side' in step:
            step['short_side'] = s0
        if 'crop_size' in step:
            step['crop_size'] = (crop, crop)


def _innermost_dataset(dataset_cfg: dict) -> dict:
    """The dataset config under wrappers such as ClassUniformDataset."""
    while 'dataset' in dataset_cfg:
        dataset_cfg = dataset_cfg['dataset']
    return dataset_cfg


def make_tiny_cfg(data_root: str, work_dir: str, max_iters: int = 2,
                  config: str = DEMO_CONFIG, s0: int = 128,
                  crop: int = 96, with_val: bool = True) -> Config:
    """Config of ``config`` on the tiny synthetic dataset, ``max_iters`` iterations.

    Images are rescaled to a shortest side of ``s0`` and cropped to ``crop``; loaders run in the
    main process; validation runs once at the end unless ``with_val`` is False.
    """
    cfg = Config.fromfile(config)
    data_root = data_root.rstrip('/') + '/'
    cfg.work_dir = work_dir
    cfg.train_cfg.max_iters = max_iters
    cfg.train_cfg.val_interval = max_iters
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
             end=max_iters)
    ]
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = max_iters
    for loader_name in ('train_dataloader', 'val_dataloader',
                        'test_dataloader'):
        loader = cfg[loader_name]
        loader.num_workers = 0
        loader.persistent_workers = False
        dataset = _innermost_dataset(loader.dataset)
        dataset.data_root = data_root
        _retarget_pipeline(dataset.pipeline, s0, crop)
    for name in ('val_evaluator', 'test_evaluator'):
        cfg[name].ann_file = data_root + 'annotations/panoptic_val.json'
        cfg[name].seg_prefix = data_root + 'annotations/panoptic_val/'
    if not with_val:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.launcher = 'none'
    setup_runtime_cfg(cfg)
    return cfg
