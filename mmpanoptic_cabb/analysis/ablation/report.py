"""The study's report: per-variant mean ± half the range over the seeds, the
markdown table and the AP-by-size plot.

- ``table.md``: per variant, PQ, PQ^th, PQ^st, box and mask mAP, mIoU, PC,
  PC^th, PC^st and PQ† as mean ± half the range over its seeds, box and mask
  AP per area-percentile bucket (Fig. 5), and every run's numbers;
- ``ap_by_size.png``: box and mask AP per bucket, one line per variant,
  error bars = half the range;
- the table's section on differences beyond the spread
  (:mod:`.comparisons`): the headline comparisons and, for every variant,
  the metrics whose seed range does not overlap CROP's;
- ``loss_curves.png`` and the table's convergence section
  (:mod:`.convergence`): the runs' training losses.

Every function takes the runs' records (``metrics.json`` contents, see
:func:`.results.load_records`).
"""
import math
import os
import os.path as osp
from datetime import datetime
from typing import Dict, List, Optional, Sequence, Tuple

from ..plots import AP_TYPES, BUCKET_KEY, bucket_title
from ..plots import plot_ap_by_size as plot_buckets
from .common import fmt_seconds, write_text
from .comparisons import render_comparisons, seed_range
from .convergence import (LossRun, load_loss_runs, plot_loss_curves,
                          render_convergence)

#: (metric key, column header) of the main table.
TABLE_COLUMNS = (
    ('PQ', 'PQ'),
    ('PQ_th', 'PQ<sup>th</sup>'),
    ('PQ_st', 'PQ<sup>st</sup>'),
    ('bbox_mAP', 'box mAP'),
    ('segm_mAP', 'mask mAP'),
    ('mIoU', 'mIoU'),
    ('PC', 'PC'),
    ('PC_th', 'PC<sup>th</sup>'),
    ('PC_st', 'PC<sup>st</sup>'),
    ('PQ_dagger', 'PQ†'),
)


def mean_spread(values: Sequence[Optional[float]]
                ) -> Tuple[float, float, int]:
    """Mean and half the range of the finite values.

    Args:
        values (Sequence[float | None]): One value per seed; None / NaN are
            left out.

    Returns:
        tuple[float, float, int]: ``(mean, (max - min) / 2, count)``; NaN,
        NaN, 0 without finite values.
    """
    stat = seed_range(values)
    if stat is None:
        return float('nan'), float('nan'), 0
    mean, low, high, count = stat
    return mean, (high - low) / 2, count


def active_seconds(intervals: Sequence[Tuple[float, float]]) -> float:
    """Length of the union of time intervals.

    Runs of one study may be trained over several invocations, with pauses
    between them; the union is the time during which at least one run was
    active, and leaves the pauses out.

    Args:
        intervals (Sequence[tuple[float, float]]): ``(start, end)`` pairs in
            seconds; pairs with ``end < start`` count as empty.

    Returns:
        float: Seconds covered by at least one interval.
    """
    total, reach = 0.0, -math.inf
    for start, end in sorted(intervals):
        if end <= reach:
            continue
        total += end - max(start, reach)
        reach = end
    return total


def bucket_labels(records: Sequence[dict]) -> List[str]:
    """Area-percentile bucket labels present in the records, by lower edge.

    Args:
        records (Sequence[dict]): ``metrics.json`` contents.

    Returns:
        list[str]: e.g. ``['p0-25', 'p25-50', ..., 'p99-100']``.
    """
    labels = {
        match.group(2)
        for record in records for key in record.get('metrics', {})
        for match in [BUCKET_KEY.match(key)] if match
    }
    return sorted(labels, key=lambda s: float(s[1:].split('-')[0]))


def aggregate(records: Sequence[dict],
              variants: Sequence[str]) -> Dict[str, dict]:
    """Per variant: its seeds and ``mean_spread`` of every metric.

    Args:
        records (Sequence[dict]): ``metrics.json`` contents.
        variants (Sequence[str]): Variants in table order; others are
            appended in order of appearance.

    Returns:
        dict[str, dict]: variant -> ``dict(seeds, n, stats)`` with
        ``stats[key] = (mean, spread, count)``. Variants without records are
        left out.
    """
    order = list(variants) + [
        r['variant'] for r in records if r['variant'] not in variants
    ]
    out: Dict[str, dict] = {}
    for name in dict.fromkeys(order):
        runs = sorted((r for r in records if r['variant'] == name),
                      key=lambda r: r['seed'])
        if not runs:
            continue
        keys = dict.fromkeys(k for r in runs for k in r['metrics'])
        out[name] = dict(
            seeds=[r['seed'] for r in runs],
            n=len(runs),
            stats={
                key: mean_spread([r['metrics'].get(key) for r in runs])
                for key in keys
            })
    return out


def format_stat(stat: Optional[Tuple[float, float, int]], n: int,
                digits: int = 1) -> str:
    """``mean ± spread`` of :func:`mean_spread`, ``–`` without values.

    Args:
        stat (tuple, optional): ``(mean, spread, count)``.
        n (int): Seeds of the variant; ``(count/n)`` is appended when some
            seeds have no value.
        digits (int): Decimals.

    Returns:
        str: The table cell.
    """
    if stat is None or stat[2] == 0:
        return '–'
    mean, spread, count = stat
    cell = f'{mean:.{digits}f} ± {spread:.{digits}f}'
    return cell if count == n else f'{cell} ({count}/{n})'


def render_table(records: Sequence[dict], variants: Sequence[str],
                 plot_name: Optional[str] = 'ap_by_size.png',
                 digits: int = 1,
                 loss_plot_name: Optional[str] = None,
                 loss_runs: Optional[Sequence[LossRun]] = None) -> str:
    """The markdown report of the study's runs.

    Args:
        records (Sequence[dict]): ``metrics.json`` contents (with
            ``record_dir``, the convergence section reads the runs'
            ``losses.json``).
        variants (Sequence[str]): Variants in table order.
        plot_name (str, optional): File name of the plot, linked when given.
        digits (int): Decimals of the aggregated cells.
        loss_plot_name (str, optional): File name of the loss curves,
            linked when given.
        loss_runs (Sequence[tuple[dict, dict]], optional): The runs' loss
            curves (:func:`.convergence.load_loss_runs`); read from the
            records' folders when not given.

    Returns:
        str: Markdown.
    """
    agg = aggregate(records, variants)
    buckets = bucket_labels(records)
    commands = list(dict.fromkeys(r.get('command') or '' for r in records))
    iters = sorted({r['iters'] for r in records})
    roots = list(dict.fromkeys(r['data_root'] for r in records))
    overrides = list(dict.fromkeys(
        ' '.join(r.get('cfg_options') or []) for r in records))
    timings = [r.get('timing', {}) for r in records]
    train_total = sum(t.get('train_seconds') or 0.0 for t in timings)
    test_total = sum(t.get('test_seconds') or 0.0 for t in timings)
    intervals = [(datetime.fromisoformat(r['started_at']).timestamp(),
                  datetime.fromisoformat(r['finished_at']).timestamp())
                 for r in records
                 if r.get('started_at') and r.get('finished_at')]
    lines = ['# Table 1 / Fig. 5 in miniature: the synthetic variants', '']
    lines.append('Produced by (from the repository root):')
    lines.append('')
    for cmd in commands:
        lines.append(f'    {cmd or "(command not recorded)"}')
    lines.append('')
    if len(commands) > 1:
        lines.append(
            f'The runs were trained by {len(commands)} invocations of the '
            'study, one line each; every invocation skips the runs already '
            'done, and `--seeds-for` restricts one to some of the runs.')
        lines.append('')
    lines.append(
        f'- iterations: {", ".join(map(str, iters))}'
        + (' (**the runs differ in length**)' if len(iters) > 1 else ''))
    lines.append('- seeds: ' + '; '.join(
        f'{name} {",".join(map(str, a["seeds"]))}'
        for name, a in agg.items()))
    lines.append(f'- data root: {", ".join(roots)}')
    if any(overrides):
        lines.append('- extra overrides: ' + '; '.join(
            f'`{o}`' for o in overrides if o))
    span = ''
    if intervals:
        span = (f'; {fmt_seconds(active_seconds(intervals))} of wall time '
                'with at least one run active (pauses between invocations '
                'left out)')
    runs = f'{len(records)} run' + ('s' if len(records) != 1 else '')
    lines.append(f'- training wall time: {fmt_seconds(train_total)} summed '
                 f'over {runs} (testing '
                 f'{fmt_seconds(test_total)}){span}')
    lines.append('')
    lines.append(
        'Values in percent on the synthetic val split: **mean ± half the '
        'range, (max − min) / 2, over the n seeds** of each variant '
        '(`(k/n)`: only k seeds have a value). Every number is aggregated '
        'from the runs\' `metrics.json`; the per-run values are listed at '
        'the end.')
    lines.append('')
    header = ['Variant', 'n'] + [title for _, title in TABLE_COLUMNS]
    lines.append('| ' + ' | '.join(header) + ' |')
    lines.append('| --- | --: |' + ' --: |' * len(TABLE_COLUMNS))
    for name, a in agg.items():
        cells = [name, str(a['n'])] + [
            format_stat(a['stats'].get(key), a['n'], digits)
            for key, _ in TABLE_COLUMNS
        ]
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines.append('')
    if buckets:
        lines.append('## AP by object size (Fig. 5)')
        lines.append('')
        lines.append(
            'Box and mask AP per bucket of ground-truth instance area, the '
            'buckets being percentiles of the val instances\' areas (a '
            'bucket named a–b holds the instances between the a-th and the '
            'b-th percentile). Mean ± half the range over the n seeds.')
        edges = next((r['area_buckets'] for r in records
                      if r.get('area_buckets')), None)
        if edges:
            lines.append('Bucket areas (pixels, full resolution): ' +
                         ', '.join(f'{bucket_title(k)}: '
                                   f'{v[0]:.0f}–{v[1]:.0f}'
                                   for k, v in edges.items()) + '.')
        lines.append('')
        header = ['Variant', 'AP', 'n'] + [bucket_title(b) for b in buckets]
        lines.append('| ' + ' | '.join(header) + ' |')
        lines.append('| --- | --- | --: |' + ' --: |' * len(buckets))
        for name, a in agg.items():
            for prefix, title in AP_TYPES:
                cells = [name, title, str(a['n'])] + [
                    format_stat(a['stats'].get(f'{prefix}_mAP_{b}'), a['n'],
                                digits) for b in buckets
                ]
                lines.append('| ' + ' | '.join(cells) + ' |')
        lines.append('')
        if plot_name:
            lines.append(f'![AP by size]({plot_name})')
            lines.append('')
    compared = list(TABLE_COLUMNS) + [
        (f'{prefix}_mAP_{b}', f'{title} AP {bucket_title(b)}')
        for prefix, title in AP_TYPES for b in buckets
    ]
    lines.extend(render_comparisons(
        records, variants, compared,
        largest_box=f'bbox_mAP_{buckets[-1]}' if buckets else None,
        digits=digits))
    if loss_runs is None:
        loss_runs = load_loss_runs(records)
    lines.extend(render_convergence(loss_runs, variants))
    if loss_plot_name:
        lines.append(f'![loss curves]({loss_plot_name})')
        lines.append('')
    lines.append('<details><summary>Every run</summary>')
    lines.append('')
    keys = [key for key, _ in TABLE_COLUMNS]
    header = ['Variant', 'seed', 'iters'] + [t for _, t in TABLE_COLUMNS] + [
        'train s', 's / iter', 'test s'
    ]
    lines.append('| ' + ' | '.join(header) + ' |')
    lines.append('| --- | --: | --: |' + ' --: |' * (len(keys) + 3))
    rank = {name: k for k, name in enumerate(agg)}
    for r in sorted(records, key=lambda r: (rank.get(r['variant'], 1e9),
                                            r['seed'])):
        t = r.get('timing', {})
        cells = [r['variant'], str(r['seed']), str(r['iters'])] + [
            '–' if r['metrics'].get(k) is None else
            f'{r["metrics"][k]:.{digits + 1}f}' for k in keys
        ] + [
            '–' if t.get('train_seconds') is None else
            f'{t["train_seconds"]:.0f}',
            '–' if t.get('seconds_per_iter') is None else
            f'{t["seconds_per_iter"]:.2f}',
            '–' if t.get('test_seconds') is None else
            f'{t["test_seconds"]:.0f}',
        ]
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines.append('')
    lines.append('</details>')
    lines.append('')
    return '\n'.join(lines)


def plot_ap_by_size(records: Sequence[dict], variants: Sequence[str],
                    path: str) -> None:
    """Fig. 5: box and mask AP per area-percentile bucket, two panels.

    One line per variant (mean over its seeds), error bars = half the range
    (drawn by :func:`mmpanoptic_cabb.analysis.plots.plot_ap_by_size`).

    Args:
        records (Sequence[dict]): ``metrics.json`` contents.
        variants (Sequence[str]): Variants in legend order.
        path (str): Output PNG.
    """
    agg = aggregate(records, variants)
    buckets = bucket_labels(records)
    series = []
    for name, a in agg.items():
        values = {prefix: {} for prefix, _ in AP_TYPES}
        for prefix, _ in AP_TYPES:
            for b in buckets:
                stat = a['stats'].get(f'{prefix}_mAP_{b}')
                if stat is not None and stat[2] > 0:
                    values[prefix][b] = (stat[0], stat[1])
        series.append((f'{name} (n={a["n"]})', values))
    iters = sorted({r['iters'] for r in records})
    plot_buckets(
        series, path,
        title=f'synthetic val, {"/".join(map(str, iters))} iterations; '
        'error bars: half the range over seeds')


def write_report(records: Sequence[dict], variants: Sequence[str],
                 out_dir: str) -> Tuple[str, str]:
    """Write ``table.md``, ``ap_by_size.png`` and, where the runs have loss
    curves, ``loss_curves.png`` to ``out_dir``.

    Args:
        records (Sequence[dict]): ``metrics.json`` contents.
        variants (Sequence[str]): Variants in table order.
        out_dir (str): Output folder (created).

    Returns:
        tuple[str, str]: The paths of the table and the AP plot.
    """
    os.makedirs(out_dir, exist_ok=True)
    table = osp.join(out_dir, 'table.md')
    plot = osp.join(out_dir, 'ap_by_size.png')
    plot_ap_by_size(records, variants, plot)
    loss_plot = osp.join(out_dir, 'loss_curves.png')
    loss_runs = load_loss_runs(records)
    has_losses = plot_loss_curves(loss_runs, variants, loss_plot)
    text = render_table(
        records, variants, plot_name=osp.basename(plot),
        loss_plot_name=osp.basename(loss_plot) if has_losses else None,
        loss_runs=loss_runs)
    write_text(text, table)
    return table, plot

