"""Convergence evidence of the study's runs: loss means over the last
deciles of training, and the loss curves per variant.

A run's ``losses.json`` (:func:`.results.collect_losses`) holds one value per
logged iteration, each the mean over the logging interval. The decile ``d``
of a run of ``N`` iterations is the logged iterations in
``((d - 1) N / 10, d N / 10]``. A loss is called flat when its mean over the
last decile is within ``FLAT_TOLERANCE`` of its mean over the 8th decile.

The schedule is PolyLR, so the learning rate falls towards 0 over these
deciles as well: a flat loss at the end says that more steps at the end of
this schedule change little, not that a longer schedule would not help.
"""
import math
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

from ..plots import agg_pyplot
from .common import LOSSES_FILE, read_json

#: The loss terms of the table and the plot, in the network's order.
LOSS_KEYS = ('loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox',
             'loss_mask', 'loss_seg')
#: Relative change from the 8th to the 10th decile below which a loss is
#: called flat.
FLAT_TOLERANCE = 0.05
#: The deciles compared.
LATE_DECILES = (8, 9, 10)


def decile_means(iterations: Sequence[int], values: Sequence[Optional[float]],
                 total: int,
                 deciles: Sequence[int] = LATE_DECILES) -> List[float]:
    """Mean of a logged curve over deciles of the run.

    Args:
        iterations (Sequence[int]): Logged iterations.
        values (Sequence[float | None]): One value per logged iteration;
            None / NaN are left out.
        total (int): The run's iterations ``N``.
        deciles (Sequence[int]): Deciles, 1..10.

    Returns:
        list[float]: One mean per decile; NaN where it has no value.
    """
    out = []
    for d in deciles:
        low, high = (d - 1) * total / 10, d * total / 10
        inside = [float(v) for it, v in zip(iterations, values)
                  if low < it <= high and v is not None
                  and math.isfinite(float(v))]
        out.append(sum(inside) / len(inside) if inside else float('nan'))
    return out


def relative_change(first: float, last: float) -> float:
    """``(last - first) / first``; NaN when undefined."""
    if not (math.isfinite(first) and math.isfinite(last)) or first == 0:
        return float('nan')
    return (last - first) / first


def is_flat(change: float) -> bool:
    """Whether a relative change, rounded to a whole percent as the table
    shows it, is within :data:`FLAT_TOLERANCE` (NaN counts as flat: there
    is nothing to report)."""
    if math.isnan(change):
        return True
    return abs(round(change * 100)) <= round(FLAT_TOLERANCE * 100)


def run_convergence(losses: dict, total: int,
                    keys: Sequence[str] = LOSS_KEYS
                    ) -> Dict[str, List[float]]:
    """Late-decile means of every loss of one run.

    Args:
        losses (dict): A ``losses.json``.
        total (int): The run's iterations.
        keys (Sequence[str]): Loss terms.

    Returns:
        dict: Loss -> means over :data:`LATE_DECILES` (keys the run did not
        log are left out).
    """
    iterations = losses.get('iterations', [])
    return {key: decile_means(iterations, losses[key], total)
            for key in keys if key in losses}


#: A run record paired with its ``losses.json``.
LossRun = Tuple[dict, dict]


def read_losses(record: dict) -> Optional[dict]:
    """The ``losses.json`` beside a record's ``metrics.json``, if any."""
    folder = record.get('record_dir')
    path = osp.join(folder, LOSSES_FILE) if folder else None
    return read_json(path) if path and osp.isfile(path) else None


def load_loss_runs(records: Sequence[dict]) -> List[LossRun]:
    """Read every record's ``losses.json`` once.

    Args:
        records (Sequence[dict]): Run records with ``record_dir``
            (:func:`.results.load_records`).

    Returns:
        list[tuple[dict, dict]]: ``(record, losses)`` for the records that
        have loss curves, in the records' order.
    """
    runs = [(record, read_losses(record)) for record in records]
    return [(record, losses) for record, losses in runs
            if losses is not None]


def variant_convergence(runs: Sequence[LossRun], variants: Sequence[str]
                        ) -> Dict[str, Tuple[int, Dict[str, List[float]]]]:
    """Late-decile loss means per variant, averaged over its seeds.

    Args:
        runs (Sequence[tuple[dict, dict]]): ``(record, losses)`` pairs
            (:func:`load_loss_runs`).
        variants (Sequence[str]): Variants in table order.

    Returns:
        dict: Variant -> ``(runs with losses, {loss: [d8, d9, d10]})``;
        variants without any loss curves are left out.
    """
    out = {}
    for name in variants:
        per_run = [run_convergence(losses, int(record['iters']))
                   for record, losses in runs if record['variant'] == name]
        if not per_run:
            continue
        keys = [k for k in LOSS_KEYS if all(k in run for run in per_run)]
        means = {
            key: [sum(run[key][i] for run in per_run) / len(per_run)
                  for i in range(len(LATE_DECILES))]
            for key in keys
        }
        out[name] = (len(per_run), means)
    return out


def render_convergence(runs: Sequence[LossRun],
                       variants: Sequence[str]) -> List[str]:
    """The markdown section on convergence (empty without loss curves).

    Args:
        runs (Sequence[tuple[dict, dict]]): ``(record, losses)`` pairs
            (:func:`load_loss_runs`).
        variants (Sequence[str]): Variants in table order.

    Returns:
        list[str]: Markdown lines.
    """
    table = variant_convergence(runs, variants)
    if not table:
        return []
    keys = [k for k in LOSS_KEYS if any(k in m for _, m in table.values())]
    first, last = LATE_DECILES[0], LATE_DECILES[-1]
    lines = ['## Convergence', '']
    lines.append(
        f'Mean of each loss over the {first}th, {LATE_DECILES[1]}th and '
        f'{last}th deciles of training (averaged over the seeds), and its '
        f'relative change from the {first}th to the {last}th. A loss within '
        f'±{FLAT_TOLERANCE:.0%} is flat (**bold** where it is not). The '
        'learning rate falls to 0 over these deciles (PolyLR).')
    lines.append('')
    lines.append('| Variant | n | ' + ' | '.join(keys) + ' |')
    lines.append('| --- | --: |' + ' --- |' * len(keys))
    for name, (count, means) in table.items():
        cells = [name, str(count)]
        for key in keys:
            if key not in means:
                cells.append('–')
                continue
            values = means[key]
            change = relative_change(values[0], values[-1])
            text = ' → '.join(f'{v:.3f}' for v in values)
            change_text = ('–' if math.isnan(change) else
                           f'{change:+.0%}'.replace('-', '−'))
            if not is_flat(change):
                change_text = f'**{change_text}**'
            cells.append(f'{text} ({change_text})')
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines.append('')
    return lines


def _smooth(values: Sequence[Optional[float]], window: int) -> List[float]:
    """Trailing running mean over ``window`` points, gaps skipped."""
    out, kept = [], []
    for v in values:
        if v is not None and math.isfinite(float(v)):
            kept.append(float(v))
        kept = kept[-window:]
        out.append(sum(kept) / len(kept) if kept else float('nan'))
    return out


def plot_loss_curves(runs: Sequence[LossRun], variants: Sequence[str],
                     path: str, window: int = 20, dpi: int = 80) -> bool:
    """Loss curves, one panel per loss, one line per run (colour = variant).

    Args:
        runs (Sequence[tuple[dict, dict]]): ``(record, losses)`` pairs
            (:func:`load_loss_runs`).
        variants (Sequence[str]): Variants in legend order.
        path (str): Output PNG.
        window (int): Logged points of the running mean.
        dpi (int): Resolution of the PNG.

    Returns:
        bool: False (and nothing written) when no run has loss curves.
    """
    if not runs:
        return False
    plt = agg_pyplot()
    keys = [k for k in LOSS_KEYS if any(k in losses for _, losses in runs)]
    cols = 3
    rows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(12, 3.0 * rows),
                             squeeze=False)
    colours = plt.rcParams['axes.prop_cycle'].by_key()['color']
    colour = {name: colours[k % len(colours)]
              for k, name in enumerate(variants)}
    for ax, key in zip(axes.flat, keys):
        labelled = set()
        for record, losses in runs:
            if key not in losses:
                continue
            name = record['variant']
            ax.plot(losses['iterations'], _smooth(losses[key], window),
                    lw=1.0, color=colour.get(name, 'k'), alpha=0.85,
                    label=None if name in labelled else name)
            labelled.add(name)
        ax.set_title(key, fontsize=9)
        ax.set_yscale('log')
        ax.set_xlabel('iteration', fontsize=8)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(keys):]:
        ax.axis('off')
    axes.flat[0].legend(fontsize=7, loc='best')
    fig.suptitle(f'training losses, running mean over {window} logged points '
                 '(one line per run)', fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return True
