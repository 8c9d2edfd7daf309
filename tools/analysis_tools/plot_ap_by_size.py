"""Fig. 5: box and mask AP per object-size percentile bucket, and PQ per class.

Reads one or several result files, each one of

- the JSON mmengine writes after ``tools/test.py``
  (``<work-dir>/<timestamp>/<timestamp>.json``, keys ``panoptic/...``);
- a study run's ``metrics.json`` (``run_ablation.py``; ``metrics`` and
  ``area_buckets``);
- the ``--out`` JSON of ``eval_panoptic.py`` (PQ per class only: it has no
  instance AP).

The AP buckets are the metric's ``<type>_mAP_p<lo>-<hi>`` values
(``test_evaluator.area_percentiles``); per-class PQ needs
``--cfg-options test_evaluator.classwise=True`` at test time (keys
``PQ_class_<name>``) or ``eval_panoptic.py``'s ``per_class``.

Example::

    python tools/test.py CONFIG CKPT --work-dir work_dirs/test_a \\
        --cfg-options test_evaluator.classwise=True
    python tools/analysis_tools/plot_ap_by_size.py \\
        work_dirs/test_a/*/[0-9]*.json work_dirs/test_b/*/[0-9]*.json \\
        --labels A B --out ap_by_size.png

writes ``ap_by_size.png`` and ``ap_by_size_pq_per_class.png`` (``--pq-out``).
"""
import argparse
import os.path as osp
from typing import List, Optional, Sequence


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='AP per object-size percentile and PQ per class')
    parser.add_argument('results', nargs='+', help='result JSON file(s)')
    parser.add_argument('--out', required=True, help='AP-by-size PNG')
    parser.add_argument('--pq-out', default=None,
                        help='per-class PQ PNG (default: <out>_pq_per_class'
                        '.png)')
    parser.add_argument('--labels', nargs='+', default=None,
                        help='legend label of each file (default: names)')
    parser.add_argument('--title', default=None, help='figure title')
    return parser.parse_args(argv)


def load_result(path: str) -> dict:
    """The metrics of one result file, without the ``panoptic/`` prefix.

    Returns:
        dict: ``metrics`` (flat), ``per_class`` ({class: PQ}),
        ``area_buckets`` (or None) and ``label`` (a default legend label).

    Raises:
        ValueError: The file is missing, not JSON, or holds no metrics
            (the message names it).
    """
    from mmpanoptic_cabb.evaluation.metrics.panoptic_quality_metric import \
        PER_CLASS_PQ_PREFIX
    from mmpanoptic_cabb.utils.errors import ToolInputError, read_json_input
    data = read_json_input(path, 'result file')
    label = osp.splitext(osp.basename(path))[0]
    if isinstance(data, dict) and isinstance(data.get('metrics'), dict):
        metrics = dict(data['metrics'])
        if data.get('variant') is not None:
            label = f'{data["variant"]} seed {data.get("seed", "?")}'
    elif isinstance(data, dict):
        metrics = {k.split('/', 1)[1] if '/' in k else k: v
                   for k, v in data.items()}
    else:
        raise ToolInputError(f'result file {path!r} holds no metrics dict')
    per_class = {
        k[len(PER_CLASS_PQ_PREFIX):]: v for k, v in metrics.items()
        if k.startswith(PER_CLASS_PQ_PREFIX) and v is not None and v == v
    }
    things = []
    if isinstance(data, dict) and isinstance(data.get('per_class'), list):
        for row in data['per_class']:
            if row.get('PQ') is not None:
                per_class[row['name']] = row['PQ']
            if row.get('isthing'):
                things.append(row['name'])
    if 'PQ' not in metrics and not per_class:
        raise ToolInputError(f'result file {path!r} holds no panoptic '
                             'metrics (PQ)')
    return dict(metrics=metrics, per_class=per_class, things=things,
                area_buckets=data.get('area_buckets') if isinstance(
                    data, dict) else None, label=label)


def main(argv: Optional[Sequence[str]] = None) -> List[str]:
    """Draw the figures; returns the paths written."""
    args = parse_args(argv)
    from mmpanoptic_cabb.analysis.plots import (bucket_values,
                                                plot_ap_by_size,
                                                plot_pq_per_class)
    from mmpanoptic_cabb.utils.errors import (ToolInputError,
                                              check_writable_dir)
    results = [load_result(p) for p in args.results]
    labels = args.labels or [r['label'] for r in results]
    if len(labels) != len(results):
        raise ToolInputError(f'{len(labels)} labels for {len(results)} '
                             'result files')
    for path in [args.out, args.pq_out]:
        if path:
            check_writable_dir(osp.dirname(osp.abspath(path)))
    written = []
    series = [(label, bucket_values(r['metrics']))
              for label, r in zip(labels, results)]
    if any(per for _, values in series for per in values.values()):
        ranges = next((r['area_buckets'] for r in results
                       if r['area_buckets']), None)
        plot_ap_by_size(series, args.out, title=args.title,
                        bucket_ranges=ranges)
        written.append(args.out)
    else:
        print('no AP buckets (<type>_mAP_p<lo>-<hi>) in the results: '
              f'{args.out} not written')
    pq_series = [(label, r['per_class']) for label, r in zip(labels, results)
                 if r['per_class']]
    pq_out = args.pq_out or osp.splitext(args.out)[0] + '_pq_per_class.png'
    if pq_series:
        things = sorted({t for r in results for t in r['things']})
        plot_pq_per_class(pq_series, pq_out, things=things, title=args.title)
        written.append(pq_out)
    else:
        print('no per-class PQ in the results (test with '
              'test_evaluator.classwise=True): no per-class chart')
    for path in written:
        print(f'wrote {path}')
    return written


if __name__ == '__main__':
    from mmpanoptic_cabb.utils.cli import exit_on_input_error
    exit_on_input_error(main)
