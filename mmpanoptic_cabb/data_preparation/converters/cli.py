"""Command-line plumbing of ``tools/dataset_converters/*_panoptic.py``."""
import argparse
import sys
import time
from typing import Callable, Sequence

from .errors import DatasetConversionError
from .panoptic_io import IMAGE_MODES


def build_parser(description: str,
                 default_splits: Sequence[str]) -> argparse.ArgumentParser:
    """Parser with ``--root``, ``--out``, ``--split`` and ``--image-mode``.

    Args:
        description (str): Help text of the tool.
        default_splits (Sequence[str]): Splits converted when ``--split`` is
            not given.

    Returns:
        argparse.ArgumentParser: The parser (tools may add arguments).
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        '--root', required=True, help='dataset root in its original layout')
    parser.add_argument(
        '--out', required=True, help='output root (COCO panoptic layout)')
    parser.add_argument(
        '--split',
        nargs='+',
        default=list(default_splits),
        help='split(s) to convert (default: %(default)s)')
    parser.add_argument(
        '--image-mode',
        choices=IMAGE_MODES,
        default='symlink',
        help='link or copy images into OUT/images/SPLIT/')
    return parser


def run_conversion(convert: Callable[..., str], args: argparse.Namespace,
                   **kwargs) -> int:
    """Convert every split of ``args.split``; report errors briefly.

    Args:
        convert (Callable): Called as ``convert(root, out_dir, split,
            image_mode=..., **kwargs)``.
        args (argparse.Namespace): Parsed arguments of :func:`build_parser`.
        **kwargs: Extra keyword arguments of ``convert``.

    Returns:
        int: Exit status (0 on success, 1 on the first failed split).
    """
    for split in args.split:
        start = time.perf_counter()
        try:
            path = convert(
                args.root,
                args.out,
                split,
                image_mode=args.image_mode,
                **kwargs)
        except DatasetConversionError as err:
            print(f'error ({type(err).__name__}): {err}', file=sys.stderr)
            return 1
        print(f'{split}: {path} ({time.perf_counter() - start:.1f} s)')
    return 0
