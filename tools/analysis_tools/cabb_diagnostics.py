"""Does CABB act, and do large objects come out the right size?

For one checkpoint and its config:

1. ``--train-batches`` batches of the config's training loader (crops with
   their truncation flags) go through the model's losses with CABB in the
   RPN and RoI box heads (switched on for the measurement when the config
   uses SmoothL1; nothing is trained): how many positives regress to a box
   with a truncated side, and how much wider / taller than the cropped box
   CABB's solved target is along each truncated dimension;
2. the first ``--val-images`` val images are predicted: for every object
   whose box side exceeds ``--min-side`` pixels (default: the training
   crop's side mapped back to the original image through s0), the best
   same-class prediction's IoU and the log ratios of its width and height
   to the ground truth's (negative: too small), and the same for the best
   RPN proposal of any class (where the RoI head starts from). With
   ``--proposals gt`` the RoI head starts from the ground-truth boxes
   instead: whether it keeps a right-sized proposal of a large object.

Example::

    python tools/analysis_tools/cabb_diagnostics.py \\
        configs/synthetic/seamless_hrnet-slim_crop-256_1200i_synthetic.py \\
        work_dirs/.../iter_4000.pth --data-root data/synthetic_large \\
        --out crop_diagnostics.json
"""
import argparse
import json
from typing import Dict, Optional, Sequence

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, load_checkpoint

from mmpanoptic_cabb.analysis.cabb_diagnostics import (collect_training_stats,
                                                       collect_val_box_errors)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='CABB in training and box sizes of large val objects')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--data-root', help='override the data root')
    parser.add_argument('--train-batches', type=int, default=20)
    parser.add_argument('--val-images', type=int, default=50)
    parser.add_argument(
        '--min-side', type=float, help='large-object threshold in original '
        'pixels (default: crop side x original short side / s0)')
    parser.add_argument(
        '--proposals', choices=('rpn', 'gt'), default='rpn',
        help='what the RoI head starts from on the val images: the RPN\'s '
        'proposals or the ground-truth boxes')
    parser.add_argument('--out', help='write the numbers to this JSON file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def _with_cabb(cfg: Config) -> None:
    """CABB in both box heads (the measurement needs the solver)."""
    for head in (cfg.model.rpn_head, cfg.model.roi_head.bbox_head):
        head.loss_bbox = dict(head.loss_bbox, type='CABBLoss')


def main(argv: Optional[Sequence[str]] = None) -> Dict:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope('mmdet')
    import mmpanoptic_cabb  # noqa: F401
    from mmdet.registry import DATASETS, MODELS
    if args.data_root:
        root = args.data_root.rstrip('/') + '/'
        cfg.train_dataloader.dataset.dataset.data_root = root
        cfg.test_dataloader.dataset.data_root = root
    uses_cabb = cfg.model.rpn_head.loss_bbox.type == 'CABBLoss'
    _with_cabb(cfg)
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    load_checkpoint(model, args.checkpoint, map_location='cpu')
    loader_cfg = dict(cfg.train_dataloader, num_workers=0,
                      persistent_workers=False)
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    train = collect_training_stats(model, loader, args.train_batches)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    min_side = args.min_side
    if min_side is None:
        crop = next(s for s in cfg.train_pipeline
                    if s.type == 'TruncationAwareRandomCrop').crop_size
        first = dataset.get_data_info(0)
        min_side = max(crop) * min(first['height'], first['width']) / cfg.s0
    val = collect_val_box_errors(model, dataset, args.val_images, min_side,
                                 proposals_from=args.proposals)
    report = dict(config=args.config, checkpoint=args.checkpoint,
                  trained_with_cabb=uses_cabb, train=train, val=val)
    for name, stats in train.items():
        ratio = stats['size_ratio']
        print(f'{name}: {stats["truncated"]} of {stats["positives"]} '
              f'positives truncated over {stats["calls"]} batches; CABB '
              f'moved {stats["moved_dims"]} of {stats["truncated_dims"]} '
              'truncated dims, solved/cropped size median '
              f'{ratio.get("median", float("nan")):.3f}, p90 '
              f'{ratio.get("p90", float("nan")):.3f}')
    print(f'val objects with side > {min_side:.0f} px: {val["objects"]}, '
          f'recall@0.5 {val["recall_iou50"]}, median log w ratio '
          f'{val["log_w_ratio"].get("median")}, median log h ratio '
          f'{val["log_h_ratio"].get("median")}, too small {val["too_small"]}')
    rpn = val['proposals']
    print(f'  their best {args.proposals.upper()} proposals (any class): '
          'recall@0.5 '
          f'{rpn["recall_iou50"]}, median log w ratio '
          f'{rpn["log_w_ratio"].get("median")}, median log h ratio '
          f'{rpn["log_h_ratio"].get("median")}, too small {rpn["too_small"]}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=1)
    return report


if __name__ == '__main__':
    main()
