"""Helpers that shrink a training config to a few seconds on CPU, on the tiny test dataset."""
import os.path as osp

from mmengine.config import Config

from mmpanoptic_cabb.utils import setup_runtime_cfg

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(
    REPO_ROOT, 'configs', 'synthetic',
    'seamless_hrnet-slim_crop-256_400i_synthetic.py')


def _retarget_pipeline(pipeline: list, s0: int, crop: int) -> None:
    for step in pipeline:
        if step['type'] in ('RandomResize', 'Resize'):
            step['scale'] = (s0 * 8, s0)
        if 'crop_size' in step:
            step['crop_size'] = (crop, crop)


def make_tiny_cfg(data_root: str, work_dir: str, max_iters: int = 2,
                  config: str = DEMO_CONFIG, s0: int = 128,
                  crop: int = 96) -> Config:
    """Config of ``config`` on the tiny synthetic dataset, ``max_iters`` iterations.

    Images are rescaled to a shortest side of ``s0`` and cropped to ``crop``; loaders run in the
    main process; validation runs once at the end.
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
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False,
                                        interval=max_iters)
    for loader_name in ('train_dataloader', 'val_dataloader',
                        'test_dataloader'):
        loader = cfg[loader_name]
        loader.num_workers = 0
        loader.persistent_workers = False
        loader.dataset.data_root = data_root
        _retarget_pipeline(loader.dataset.pipeline, s0, crop)
    for name in ('val_evaluator', 'test_evaluator'):
        cfg[name].ann_file = data_root + 'annotations/panoptic_val.json'
        cfg[name].seg_prefix = data_root + 'annotations/panoptic_val/'
    cfg.launcher = 'none'
    setup_runtime_cfg(cfg)
    return cfg
