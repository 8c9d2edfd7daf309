"""Train a panoptic segmentor (mmdet-compatible arguments).

Examples::

    python tools/train.py configs/synthetic/seamless_hrnet-slim_crop-256_1200i_synthetic.py
    python tools/train.py CONFIG --work-dir work_dirs/x --resume            # resume the latest
    python tools/train.py CONFIG --resume --resume-fallback     # ... or the newest intact one
    python tools/train.py CONFIG --cfg-options train_cfg.max_iters=10
    bash tools/dist_train.sh CONFIG 8                                      # distributed
"""
import argparse

from mmengine.config import Config
from mmpanoptic_cabb.utils.checkpoint import resumable_checkpoint
from mmpanoptic_cabb.utils.cli import runner_from_command_line


def build_parser() -> argparse.ArgumentParser:
    """The arguments of this tool (the common ones are added later)."""
    parser = argparse.ArgumentParser(description='Train a panoptic segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--amp', action='store_true',
        help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--auto-scale-lr', action='store_true',
        help='scale the learning rate with the total batch size')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint; without a path, resume from '
        'the latest checkpoint in the work directory')
    parser.add_argument(
        '--resume-fallback', action='store_true',
        help='with --resume: if the checkpoint is truncated or corrupt, '
        'resume from the newest intact earlier one of its directory '
        '(without this flag such a checkpoint stops with an error naming it)')
    return parser


def apply_args(cfg: Config, args: argparse.Namespace) -> None:
    """Apply the training arguments to the loaded config."""
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in \
                cfg.auto_scale_lr:
            raise RuntimeError(
                f'{args.config} has no `auto_scale_lr.base_batch_size`; it '
                'cannot be used with --auto-scale-lr')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if args.resume_fallback:
        if args.resume is None:
            raise RuntimeError('--resume-fallback needs --resume')
        cfg.load_from = resumable_checkpoint(cfg.work_dir, cfg.load_from)


def main() -> None:
    _, runner = runner_from_command_line(build_parser(), apply_args)
    runner.train()


if __name__ == '__main__':
    main()
