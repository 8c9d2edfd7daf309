"""Generate the embedded synthetic high-resolution panoptic dataset (COCO
panoptic format).

Two scene profiles (``--profile``):

- ``default``, the README demo's dataset (unchanged): 8-24 things per
  1024x2048 image, sizes ``16 px * exp(E)``, ``E ~ Exp(1.15)``, capped at 1.6
  image heights; 200 train and 50 val images.
- ``large-objects``: 12-32 things per image and a heavier size tail
  (``E ~ Exp(1.4)``, capped at 1.2 image heights), so that about twice as
  many instances per image are larger than a 256 px training crop at
  s0 = 512 (a box side > 512 px in the 1024x2048 image); 150 val images by
  default, so that the top area-percentile buckets of the evaluation (95-99
  and 99-100: percentiles of the val instances' areas, hence 4 % and 1 % of
  them by construction) hold enough instances (~85 and ~20 at seed 0).

The output is a pure function of ``(seed, profile)`` and the sizes. After
writing, the tool reports the number of val thing instances per
area-percentile bucket (the buckets of ``PanopticQualityMetric``) and, per
split, how many instances are larger than the training crop.

Example::

    python tools/dataset_converters/make_synthetic_panoptic.py \\
        --out data/synthetic --seed 0
    python tools/dataset_converters/make_synthetic_panoptic.py \\
        --out data/synthetic_large --profile large-objects
"""
import argparse
import json
import time
from typing import Dict, List, Optional, Sequence

import numpy as np

from mmpanoptic_cabb.data_preparation.synthetic import (
    PROFILES, write_synthetic_dataset)
from mmpanoptic_cabb.evaluation.functional.instance_eval import (
    DEFAULT_PERCENTILES, percentile_buckets)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate the synthetic panoptic dataset')
    parser.add_argument('--out', default='data/synthetic',
                        help='output root directory')
    parser.add_argument('--seed', type=int, default=0, help='dataset seed')
    parser.add_argument(
        '--profile', default='default', choices=sorted(PROFILES),
        help='scene profile: "default" (the README demo dataset) or '
        '"large-objects" (more things per image, heavier size tail, more '
        'val images)')
    parser.add_argument(
        '--num-train', type=int, default=None,
        help='number of training images (default: the profile\'s, 200)')
    parser.add_argument(
        '--num-val', type=int, default=None,
        help='number of validation images (default: the profile\'s, 50 for '
        '"default", 150 for "large-objects")')
    parser.add_argument('--height', type=int, default=1024,
                        help='image height')
    parser.add_argument('--width', type=int, default=2048, help='image width')
    parser.add_argument('--nproc', type=int, default=0,
                        help='worker processes (0: all cores)')
    parser.add_argument(
        '--train-short-side', type=int, default=512,
        help='s0 of the training configs, only for the report of instances '
        'larger than the crop (default: 512, the synthetic configs\')')
    parser.add_argument(
        '--crop-size', type=int, default=256,
        help='training crop side, only for the report (default: 256)')
    return parser.parse_args(argv)


def size_summary(json_path: str,
                 short_side: int = 512,
                 crop_size: int = 256,
                 percentiles: Sequence[float] = DEFAULT_PERCENTILES
                 ) -> Dict[str, object]:
    """Thing-instance size statistics of one written split.

    Crowd regions are left out, as in the AP evaluation. An instance is
    *larger than the crop* when a side of its box, rescaled to the training
    scale (shortest image side = ``short_side``), exceeds ``crop_size``.

    Args:
        json_path (str): A ``panoptic_<split>.json`` written by the generator.
        short_side (int): Training s0.
        crop_size (int): Training crop side.
        percentiles (Sequence[float]): Inner edges of the area buckets
            (``PanopticQualityMetric``'s by default).

    Returns:
        dict: ``num_images``, ``num_instances``, ``larger_than_crop`` and
        ``buckets``: label -> ``dict(count, area_range)``, the counts of the
        instances whose pixel area lies in each bucket (the buckets include
        their upper edge and, for the first, the lower one, as COCOeval's
        area ranges do).
    """
    with open(json_path, encoding='utf-8') as f:
        coco = json.load(f)
    things = {c['id'] for c in coco['categories'] if c.get('isthing')}
    sizes = {im['id']: (im['height'], im['width']) for im in coco['images']}
    areas: List[float] = []
    larger = 0
    for ann in coco['annotations']:
        scale = short_side / min(sizes[ann['image_id']])
        for seg in ann['segments_info']:
            if seg['category_id'] not in things or seg.get('iscrowd', 0):
                continue
            areas.append(float(seg['area']))
            _, _, w, h = seg['bbox']
            larger += int(max(w, h) * scale > crop_size)
    areas_np = np.asarray(areas, dtype=np.float64)
    ranges, labels = percentile_buckets(areas_np, percentiles)
    buckets = {
        label: dict(
            count=int(((areas_np >= lo) & (areas_np <= hi)).sum()),
            area_range=[lo, hi])
        for label, (lo, hi) in zip(labels, ranges)
    }
    return dict(
        num_images=len(coco['images']),
        num_instances=len(areas),
        larger_than_crop=larger,
        buckets=buckets)


def format_size_report(summaries: Dict[str, Dict[str, object]],
                       short_side: int, crop_size: int) -> str:
    """Text report of :func:`size_summary` results, one entry per split.

    Args:
        summaries (dict): Split name -> :func:`size_summary` result.
        short_side (int): Training s0 used for the summaries.
        crop_size (int): Training crop side used for the summaries.

    Returns:
        str: The report.
    """
    lines = []
    for split, summary in summaries.items():
        n_img = max(summary['num_images'], 1)
        lines.append(
            f'{split}: {summary["num_instances"]} thing instances (crowds '
            f'excluded) in {summary["num_images"]} images; '
            f'{summary["larger_than_crop"]} '
            f'({summary["larger_than_crop"] / n_img:.2f} / image) larger '
            f'than the {crop_size} px crop at s0 = {short_side}')
        if split == 'val':
            lines.append('  val instances per area-percentile bucket (the '
                         "evaluation's AP buckets):")
            for label, bucket in summary['buckets'].items():
                lo, hi = bucket['area_range']
                lines.append(f'    {label:>8s}: {bucket["count"]:6d}   area '
                             f'{lo:.0f} .. {hi:.0f} px')
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, dict]:
    args = parse_args(argv)
    profile = PROFILES[args.profile]
    num_train = profile.num_train if args.num_train is None else \
        args.num_train
    num_val = profile.num_val if args.num_val is None else args.num_val
    start = time.perf_counter()
    splits = [(name, num) for name, num in (('train', num_train),
                                            ('val', num_val)) if num > 0]
    written = write_synthetic_dataset(
        args.out, seed=args.seed, splits=splits, height=args.height,
        width=args.width, nproc=args.nproc, profile=args.profile)
    elapsed = time.perf_counter() - start
    for split, path in written.items():
        print(f'{split}: {path}')
    print(f'generated {sum(n for _, n in splits)} images of '
          f'{args.height}x{args.width} (profile {args.profile!r}) in '
          f'{elapsed:.1f} s')
    summaries = {
        split: size_summary(path, args.train_short_side, args.crop_size)
        for split, path in written.items()
    }
    print(format_size_report(summaries, args.train_short_side,
                             args.crop_size))
    return summaries


if __name__ == '__main__':
    main()
