"""The study's metrics against the length of the training schedule.

Reads the results dirs of several budgets of the ablation study
(``run_ablation.py --results-dir``, one per ``--iters``) and plots, per
metric, the mean over seeds of every variant against the number of training
iterations, with bars over the seed range. When a longer schedule moves a
metric by more than its seed range, the shorter one has not converged.

Example::

    python tools/analysis_tools/plot_schedules.py \\
        docs/reproduction/runs_2000i docs/reproduction/runs \\
        docs/reproduction/runs_6000i docs/reproduction/runs_8000i \\
        --variants CROP CROP+CABB \\
        --out docs/reproduction/schedules.png

prints the values plotted, one line per variant, metric and budget.
"""
import argparse
import os.path as osp
from typing import Iterable, List, Optional, Sequence, Tuple

#: Default panels: metric keys; ``<largest>`` is the largest area bucket of
#: the runs' AP keys.
DEFAULT_METRICS = ('PQ', 'PC_th', 'bbox_mAP', 'bbox_mAP_<largest>',
                   'segm_mAP_<largest>')
TITLES = {'PQ': 'PQ', 'PC_th': 'PC_th', 'bbox_mAP': 'box mAP',
          'segm_mAP': 'mask mAP'}


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='study metrics against the training schedule')
    parser.add_argument('results_dirs', nargs='+',
                        help='results dirs of the study, one per budget')
    parser.add_argument('--out', required=True, help='PNG to write')
    parser.add_argument('--variants', nargs='+', default=None,
                        help='variants to draw (default: all, in the '
                        "study's table order)")
    parser.add_argument('--metrics', nargs='+', default=list(DEFAULT_METRICS),
                        help='metric keys, one panel each; <largest> '
                        'stands for the largest area bucket')
    parser.add_argument('--title', default=None, help='figure title')
    return parser.parse_args(argv)


def default_order(names: Iterable[str]) -> List[str]:
    """The distinct variant names, the study's variants in its table order
    first (FULL, CROP, ...), any others after them by name."""
    from mmpanoptic_cabb.analysis.ablation.variants import (DEFAULT_CONFIGS,
                                                            variant_name)
    table = [variant_name(config) for config in DEFAULT_CONFIGS]
    names = set(names)
    return [n for n in table if n in names] + sorted(names - set(table))


def resolve_metrics(keys: Sequence[str],
                    records: Sequence[dict]) -> List[Tuple[str, str]]:
    """``(key, title)`` per panel, ``<largest>`` replaced by the largest
    area bucket of the records' AP keys, as in the study's report.

    Raises:
        ToolInputError: ``<largest>`` is asked for and no record has a
            bucket AP (``<type>_mAP_p<lo>-<hi>``).
    """
    from mmpanoptic_cabb.analysis.ablation.report import bucket_labels
    from mmpanoptic_cabb.analysis.plots import bucket_title
    from mmpanoptic_cabb.utils.errors import ToolInputError
    buckets = bucket_labels(records)
    out = []
    for key in keys:
        if '<largest>' in key:
            if not buckets:
                raise ToolInputError(
                    f'metric {key!r}: no run has bucket APs')
            key = key.replace('<largest>', buckets[-1])
        prefix, _, bucket = key.partition('_mAP_p')
        if bucket:
            kind = dict(bbox='box', segm='mask').get(prefix, prefix)
            title = f'{kind} AP {bucket_title("p" + bucket)}'
        else:
            title = TITLES.get(key, key)
        out.append((key, title))
    return out


def main(argv: Optional[Sequence[str]] = None) -> List[str]:
    """Draw the figure; returns the lines printed."""
    args = parse_args(argv)
    from mmpanoptic_cabb.analysis.ablation.common import AblationError
    from mmpanoptic_cabb.analysis.ablation.schedules import (
        plot_schedules, read_results_dir, schedule_series)
    from mmpanoptic_cabb.utils.errors import (ToolInputError,
                                              check_writable_dir)
    records = []
    for results_dir in args.results_dirs:
        try:
            records += read_results_dir(results_dir)
        except AblationError as err:
            raise ToolInputError(str(err)) from err
    variants = args.variants or default_order(
        r['variant'] for r in records)
    unknown = sorted(set(variants) - {r['variant'] for r in records})
    if unknown:
        raise ToolInputError(f'no runs of variant(s) {", ".join(unknown)} '
                             f'in {", ".join(args.results_dirs)}')
    metrics = resolve_metrics(args.metrics, records)
    check_writable_dir(osp.dirname(osp.abspath(args.out)))
    lines = []
    for variant in variants:
        for key, _ in metrics:
            for iters, (mean, low, high, count) in schedule_series(
                    records, variant, key):
                lines.append(f'{variant} {key} {iters}: {mean:.1f} '
                             f'({low:.1f}-{high:.1f}), n={count}')
    plot_schedules(records, variants, metrics, args.out, title=args.title)
    lines.append(f'wrote {args.out}')
    print('\n'.join(lines))
    return lines


if __name__ == '__main__':
    main()
