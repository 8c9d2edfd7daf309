"""Validate every annotation of a configured dataset before a long training.

    python tools/misc/check_dataset.py CONFIG [--split train|val] [--nproc N]

Checks that images and panoptic PNGs exist and decode, PNG ids equal JSON ids, categories are
known, areas and boxes match the pixels, crowd flags are sound; prints each problem with its
file and id and a summary; exits with 1 when there is a problem.
"""
import argparse
import json
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmengine.utils import ProgressBar

from mmpanoptic_cabb.data_preparation.dataset_check import check_coco_panoptic


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Check a panoptic dataset')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--split', choices=['train', 'val'], default='train',
                        help='the dataset of train_dataloader or '
                        'val_dataloader (default: train)')
    parser.add_argument('--nproc', type=int, default=1,
                        help='worker processes (default: 1)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, key=value pairs (xxx=yyy)')
    return parser.parse_args(argv)


def dataset_files(cfg: Config, split: str):
    """(ann_file, img_dir, seg_dir) of the split's dataset (under any wrapper)."""
    dataset = cfg[f'{split}_dataloader']['dataset']
    while 'dataset' in dataset:
        dataset = dataset['dataset']
    root = dataset.get('data_root') or ''
    prefix = dataset.get('data_prefix', {})
    return (osp.join(root, dataset['ann_file']),
            osp.join(root, prefix.get('img', '')),
            osp.join(root, prefix.get('seg', '')))


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    ann_file, img_dir, seg_dir = dataset_files(cfg, args.split)
    if not osp.isfile(ann_file):
        print(f'{ann_file}: annotation file not found')
        return 1
    with open(ann_file) as f:
        total = len(json.load(f).get('annotations', []))
    bar = ProgressBar(total, file=sys.stderr)
    checked, problems = check_coco_panoptic(ann_file, img_dir, seg_dir,
                                            args.nproc, bar.update)
    sys.stderr.write('\n')
    for line in problems:
        print(line)
    print(f'{args.split}: {checked} annotations checked, {len(problems)} '
          f'problem{"s" if len(problems) != 1 else ""} ({ann_file})')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
