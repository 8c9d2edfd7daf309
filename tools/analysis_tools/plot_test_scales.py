"""Metrics against the test shortest side, one line per sweep record.

Reads the JSON records of ``test_scale_sweep.py`` and draws one panel per
``--metrics`` key (keys without the ``panoptic/`` prefix, e.g. ``PQ``,
``bbox_mAP_p95-100``).

Example::

    python tools/analysis_tools/plot_test_scales.py \\
        work_dirs/scales_crop.json work_dirs/scales_cabb.json \\
        --labels CROP "CROP + CABB" --metrics bbox_mAP_p87-95 \\
        bbox_mAP_p95-100 --out test_scales.png
"""
import argparse
import os.path as osp
from typing import List, Optional, Sequence, Tuple


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='metrics against the test shortest side')
    parser.add_argument(
        'records', nargs='+', help='JSON records of test_scale_sweep.py')
    parser.add_argument(
        '--metrics',
        nargs='+',
        required=True,
        help='metric keys, one panel each')
    parser.add_argument(
        '--labels',
        nargs='+',
        default=None,
        help='legend label of each record (default: names)')
    parser.add_argument('--out', required=True, help='output PNG')
    parser.add_argument('--title', default=None, help='figure title')
    return parser.parse_args(argv)


def load_record(path: str) -> dict:
    """One sweep record; a clear error names a file that is not one."""
    from mmpanoptic_cabb.utils.errors import ToolInputError, read_json_input
    record = read_json_input(path, 'sweep record')
    if not isinstance(record, dict) or not isinstance(
            record.get('tests'), dict) or not record['tests']:
        raise ToolInputError(f'{path!r} is not a test_scale_sweep.py record '
                             '(no "tests")')
    return record


def main(argv: Optional[Sequence[str]] = None) -> str:
    """Draw the figure; returns its path."""
    args = parse_args(argv)
    from mmpanoptic_cabb.analysis.test_scales import plot_metrics_by_scale
    from mmpanoptic_cabb.utils.errors import (ToolInputError,
                                              check_writable_dir)
    records = [load_record(p) for p in args.records]
    labels = args.labels or [
        osp.splitext(osp.basename(p))[0] for p in args.records
    ]
    if len(labels) != len(records):
        raise ToolInputError(f'{len(labels)} labels for {len(records)} '
                             'records')
    for metric in args.metrics:
        if not any(metric in test['metrics'] for r in records
                   for test in r['tests'].values()):
            raise ToolInputError(f'no record has the metric {metric!r}')
    check_writable_dir(osp.dirname(osp.abspath(args.out)))
    series: List[Tuple[str, dict]] = list(zip(labels, records))
    plot_metrics_by_scale(series, args.metrics, args.out, title=args.title)
    print(f'wrote {args.out}')
    return args.out


if __name__ == '__main__':
    main()
