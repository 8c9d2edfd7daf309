"""Draw what the training pipeline feeds the network (mmdet's flags).

Runs the config's training dataset, class-uniform wrapper and crop pipeline
included, and draws every sample with ``PanopticVisualizer``: the crop on a
canvas with a margin, the semantic ground truth, the instances with their
boxes (sides cut by the crop dashed red, the CABB feasible region of each
truncated box hatched) and, for ISUS configs, the sampled instance with its
target pyramid level.

Example::

    python tools/analysis_tools/browse_dataset.py \\
        configs/synthetic/seamless_hrnet-slim_crop-256-cabb-isus_1200i_synthetic.py \\
        --output-dir work_dirs/browse --num 8 --not-show

A sample is written as ``<output-dir>/<k>_<image name>.png`` (``k`` the draw
number: class-uniform draws repeat images). The draws and augmentations are
seeded with ``--seed`` (default: the config's ``randomness.seed``), so a
command gives the same drawings every time.
"""
import argparse
import os.path as osp
import sys
import time
from typing import List, Optional, Sequence

from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.utils import ProgressBar


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Draw samples of the training pipeline')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--output-dir', default=None,
                        help='folder of the drawings (none written if unset)')
    parser.add_argument('--num', type=int, default=None,
                        help='number of samples (default: the dataset length)')
    parser.add_argument('--not-show', action='store_true',
                        help='do not show the drawings in a window')
    parser.add_argument('--show-interval', type=float, default=2,
                        help='seconds each drawing is shown')
    parser.add_argument('--seed', type=int, default=None,
                        help='seed of the draws and augmentations (default: '
                        'the config\'s randomness.seed)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value pairs')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> List[str]:
    """Draw the samples; returns the paths written."""
    args = parse_args(argv)
    from mmpanoptic_cabb.utils.errors import (check_config_path,
                                              check_writable_dir)
    cfg = Config.fromfile(check_config_path(args.config))
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    import mmpanoptic_cabb  # noqa: F401  (registration)
    from mmdet.registry import DATASETS, VISUALIZERS
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    if args.output_dir is not None:
        check_writable_dir(args.output_dir)
    seed = args.seed if args.seed is not None else cfg.get(
        'randomness', {}).get('seed')
    if seed is not None:  # the same drawings for the same command
        from mmengine.runner import set_random_seed
        set_random_seed(seed)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    vis_cfg = cfg.visualizer.copy()
    vis_cfg.pop('vis_backends', None)  # drawings go to --output-dir
    vis_cfg['name'] = f'browse_dataset_{time.time()}'
    visualizer = VISUALIZERS.build(vis_cfg)
    visualizer.dataset_meta = dataset.metainfo
    num = len(dataset) if args.num is None else min(args.num, len(dataset))
    written = []
    progress = ProgressBar(num)
    for k in range(num):
        item = dataset[k]
        image = item['inputs'].permute(1, 2, 0).numpy()[..., ::-1]  # RGB
        sample = item['data_samples']
        name = osp.splitext(osp.basename(sample.img_path))[0]
        out_file = None
        if args.output_dir is not None:
            out_file = osp.join(args.output_dir, f'{k:04d}_{name}.png')
            written.append(out_file)
        visualizer.add_datasample(
            name, image, sample, draw_pred=False, show=not args.not_show,
            wait_time=args.show_interval, out_file=out_file)
        progress.update()
    sys.stdout.write('\n')
    if args.output_dir is not None:
        print(f'{len(written)} drawings written to {args.output_dir}')
    return written


if __name__ == '__main__':
    from mmpanoptic_cabb.utils.cli import exit_on_input_error
    exit_on_input_error(main)
