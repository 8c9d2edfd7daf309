"""Evaluate a trained panoptic segmentor (mmdet-compatible arguments).

Examples::

    python tools/test.py CONFIG CHECKPOINT
    python tools/test.py CONFIG CHECKPOINT --show-dir vis            # also draw predictions
    python tools/test.py CONFIG CHECKPOINT --out results.pkl         # raw predictions
    python tools/test.py CONFIG CHECKPOINT --panoptic-out sub/test   # COCO panoptic submission
    bash tools/dist_test.sh CONFIG CHECKPOINT 8
"""
import argparse

from mmengine.config import Config
from mmpanoptic_cabb.utils.cli import runner_from_command_line


def build_parser() -> argparse.ArgumentParser:
    """The arguments of this tool (the common ones are added later)."""
    parser = argparse.ArgumentParser(
        description='Test (and evaluate) a panoptic segmentor')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out', type=str,
        help='dump predictions to a pickle file (.pkl) for offline evaluation')
    parser.add_argument(
        '--panoptic-out', metavar='PREFIX',
        help='write predictions in the COCO panoptic format '
        '(PREFIX.panoptic.json and PNGs in PREFIX.panoptic/) for '
        'benchmark-server submission, without evaluating; category ids '
        'follow test_evaluator.ann_file (an image-info JSON without '
        'annotations is enough)')
    parser.add_argument(
        '--show-dir', help='directory (inside the work dir) where painted '
        'predictions are saved')
    return parser


def apply_args(cfg: Config, args: argparse.Namespace) -> None:
    """Apply the test arguments to the loaded config."""
    cfg.load_from = args.checkpoint
    if args.panoptic_out:
        cfg.test_evaluator.format_only = True
        cfg.test_evaluator.outfile_prefix = args.panoptic_out
    if args.show_dir:
        vis_hook = cfg.default_hooks.get('visualization')
        if vis_hook is None:
            raise RuntimeError(
                f'{args.config} has no `default_hooks.visualization`; '
                '--show-dir needs a DetVisualizationHook')
        vis_hook.draw = True
        vis_hook.test_out_dir = args.show_dir


def main() -> None:
    args, runner = runner_from_command_line(build_parser(), apply_args)
    if args.out is not None:
        from mmengine.evaluator import DumpResults
        if not args.out.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--out must be a .pkl file, got {args.out}')
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))
    runner.test()


if __name__ == '__main__':
    main()
