"""Evaluate a COCO panoptic result folder: PQ/SQ/RQ, PQ†, PC and mIoU.

Example::

    python tools/analysis_tools/eval_panoptic.py \\
        --gt-json data/val/panoptic.json --gt-folder data/val/panoptic \\
        --pred-json work_dirs/x/results.panoptic.json \\
        --pred-folder work_dirs/x/results.panoptic --nproc 2 --out eval.json

PQ/SQ/RQ are those of COCO panopticapi; PQ† follows Porzi et al. (2019),
Parsing Covering DeeperLab (2019); see
``mmpanoptic_cabb/evaluation/functional/panoptic_image_stats.py``. All values
are percentages. Malformed input stops the evaluation with a
``PanopticFormatError`` naming the image and the segment id.
"""
import argparse
import json
import time
from typing import Optional, Sequence

from mmpanoptic_cabb.evaluation.functional import (PanopticFormatError,
                                                   evaluate_coco_panoptic,
                                                   format_per_class_table,
                                                   format_summary_table)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='PQ, PQ†, Parsing Covering and mIoU of a COCO panoptic '
        'result folder')
    parser.add_argument('--gt-json', required=True,
                        help='ground-truth COCO panoptic JSON')
    parser.add_argument('--gt-folder', required=True,
                        help='folder of the ground-truth PNGs')
    parser.add_argument('--pred-json', required=True,
                        help='predicted COCO panoptic JSON')
    parser.add_argument('--pred-folder', required=True,
                        help='folder of the predicted PNGs')
    parser.add_argument('--nproc', type=int, default=1,
                        help='worker processes (default 1)')
    parser.add_argument('--out', help='write the results as JSON here')
    parser.add_argument('--per-class', action='store_true',
                        help='also print the per-class table')
    parser.add_argument('--no-pc-normalize', action='store_true',
                        help='Parsing Covering without dividing areas by '
                        'the image size')
    parser.add_argument('--lenient', action='store_true',
                        help='accept ground-truth PNG ids missing from the '
                        'JSON (panopticapi ignores them)')
    parser.add_argument('--decode-threads', type=int, default=1,
                        choices=(1, 2),
                        help='2 decodes the two PNGs of an image in '
                        'parallel threads')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Run the evaluation; returns the results written with ``--out``."""
    args = parse_args(argv)
    start = time.perf_counter()
    results = evaluate_coco_panoptic(
        args.gt_json,
        args.gt_folder,
        args.pred_json,
        args.pred_folder,
        nproc=args.nproc,
        pc_normalize=not args.no_pc_normalize,
        strict=not args.lenient,
        decode_threads=args.decode_threads)
    elapsed = time.perf_counter() - start
    print(format_summary_table(results))
    if args.per_class:
        print(format_per_class_table(results))
    print(f'{results["num_images"]} images in {elapsed:.2f} s')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=1)
    return results


if __name__ == '__main__':
    from mmpanoptic_cabb.utils.cli import exit_on_input_error
    exit_on_input_error(main, (PanopticFormatError, ))
