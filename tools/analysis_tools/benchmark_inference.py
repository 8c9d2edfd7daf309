"""Peak memory and seconds of full-resolution prediction, old vs new path.

Builds the slim model (``configs/_base_/models/
seamless_hrnet-slim_fpn_dlv3plus.py``) and the paper-size Mapillary Vistas
model (``seamless_hrnetv2-w48_fpn_dlv3plus.py``: HRNetV2-W48, 37 + 28
classes) with random weights (torch seed 0, no ImageNet download), every
detection kept (RoI head and fusion score thresholds ``--score-thr``, 0 by
default) and, in a fresh subprocess per case, predicts one generated
Mapillary-Vistas-like image of each ``--megapixels`` (4:3) through the MVD
test pipeline (shortest side ``--s0`` = 2400, predictions at the original
size), on CPU with ``--threads`` threads:

- ``old``: ``test_cfg.panoptic.bounded_memory=False``: semantic logits of
  all classes and an (N, H, W) mask stack at the original size;
- ``new``: ``bounded_memory=True``: logits kept at the head's stride and
  arg-maxed a few classes at a time, masks pasted one at a time (COCO RLEs
  in ``pred_instances``).

Reported per case: seconds of ``predict`` (the data preprocessor excluded),
peak RSS of the process (``ru_maxrss``) and the RSS before ``predict``
(model and image), detections; per model and size, the pixels where the
panoptic maps (and semantic maps) of the two paths differ.

Example::

    python tools/analysis_tools/benchmark_inference.py --megapixels 8 12 \\
        --models slim paper
"""
import argparse
import json
import os
import os.path as osp
import tempfile
from typing import Dict, Optional, Sequence

from mmpanoptic_cabb.analysis.benchmark.inference_cases import (
    MODEL_CONFIGS, PATHS, compare, generate_image, run_case)
from mmpanoptic_cabb.analysis.benchmark.process import (add_sample_arguments,
                                                        json_subprocess)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark full-resolution predict, old vs new path')
    add_sample_arguments(parser, megapixels=[8.0, 12.0], instances=150)
    parser.add_argument(
        '--models',
        nargs='+',
        default=['slim', 'paper'],
        choices=sorted(MODEL_CONFIGS))
    parser.add_argument(
        '--paths', nargs='+', default=list(PATHS), choices=list(PATHS))
    parser.add_argument(
        '--s0',
        type=int,
        default=2400,
        help='shortest side of the network input')
    parser.add_argument('--score-thr', type=float, default=0.0)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument(
        '--run',
        nargs=3,
        metavar=('MODEL', 'IMAGE', 'PATH'),
        help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> Dict:
    """Generate the images and run every case in a fresh subprocess."""
    args = parse_args(argv)
    work_dir = args.work_dir or tempfile.mkdtemp(prefix='bench_inference_')
    os.makedirs(work_dir, exist_ok=True)
    if args.run:
        model, image, path = args.run
        out = osp.join(work_dir, f'{model}_{osp.basename(image)}_{path}.npz')
        print(
            json.dumps(
                run_case(model, image, path, args.s0, args.score_thr,
                         args.threads, out)))
        return {}
    reports = {}
    print(f'predict on CPU, {args.threads} thread(s), s0 {args.s0}, score '
          f'threshold {args.score_thr}, random weights')
    print(f'{"model":<7}{"MP":>6}{"path":>6}{"seconds":>10}{"cpu s":>10}'
          f'{"peak RSS MiB":>14}{"RSS before":>12}{"dets":>6}'
          f'{"input":>11}')
    for megapixels in args.megapixels:
        image = generate_image(work_dir, megapixels, args.instances)
        for model in args.models:
            for path in args.paths:
                r = json_subprocess(
                    osp.abspath(__file__), [
                        '--run', model, image, path, '--s0',
                        str(args.s0), '--score-thr',
                        str(args.score_thr), '--threads',
                        str(args.threads), '--work-dir', work_dir
                    ],
                    one_thread=args.threads == 1)
                reports[model, megapixels, path] = r
                print(f'{model:<7}{megapixels:>6g}{path:>6}'
                      f'{r["seconds"]:>10.2f}{r["cpu_seconds"]:>10.2f}'
                      f'{r["peak_rss_mib"]:>14.0f}'
                      f'{r["rss_before_predict_mib"]:>12.0f}'
                      f'{r["detections"]:>6}'
                      f'{"x".join(map(str, r["input_shape"])):>11}')
            if set(PATHS) <= set(args.paths):
                name = f'{model}_{osp.basename(image)}'
                diff = compare(
                    osp.join(work_dir, f'{name}_old.npz'),
                    osp.join(work_dir, f'{name}_new.npz'))
                reports[model, megapixels, 'diff'] = diff
                print(f'{model:<7}{megapixels:>6g}  old vs new: '
                      f'{diff["panoptic_diff_pixels"]} panoptic and '
                      f'{diff["semantic_diff_pixels"]} semantic pixels '
                      'differ')
    return reports


if __name__ == '__main__':
    main()
