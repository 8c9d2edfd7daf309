"""How the study's metrics change with the length of the training schedule.

Each study (or longer-schedule check) of one iteration budget keeps its runs
in one results dir (``<dir>/<config stem>/seed<S>/metrics.json``). This
module reads several such dirs and gives, per variant and budget, the mean
and the seed range of a metric (:func:`schedule_series`), and plots them
against the budget (:func:`plot_schedules`). A schedule has converged, for
the study's purposes, when a longer one moves the metrics by less than the
spread over seeds; the plot shows that, or that it has not.
"""
from typing import Dict, List, Optional, Sequence, Tuple

from .common import METRICS_FILE, AblationError
from .comparisons import SeedRange, seed_range
from .results import metrics_paths, read_record

#: ``[(iterations, (mean, min, max, count)), ...]`` by iterations.
ScheduleSeries = List[Tuple[int, SeedRange]]


def read_results_dir(results_dir: str) -> List[dict]:
    """The ``metrics.json`` of every run in one results dir.

    Args:
        results_dir (str): ``<dir>/<config stem>/seed<S>/metrics.json``.

    Returns:
        list[dict]: The records, sorted by path.

    Raises:
        AblationError: The dir holds no run, or a ``metrics.json`` has no
            ``variant``, ``iters`` or ``metrics`` (the message names it).
    """
    paths = metrics_paths(results_dir)
    if not paths:
        raise AblationError(f'{results_dir} holds no */seed*/{METRICS_FILE}')
    return [read_record(path, ('variant', 'iters', 'metrics'))
            for path in paths]


def schedule_series(records: Sequence[dict], variant: str,
                    metric: str) -> ScheduleSeries:
    """Mean and seed range of one metric of one variant, per budget.

    Args:
        records (Sequence[dict]): ``metrics.json`` contents (``variant``,
            ``iters``, ``metrics``), of any budgets.
        variant (str): The variant.
        metric (str): The metric key.

    Returns:
        list: ``(iterations, (mean, min, max, count))`` for every budget
        at which the variant has a value, by iterations.
    """
    values: Dict[int, List[Optional[float]]] = {}
    for record in records:
        if record['variant'] == variant:
            values.setdefault(int(record['iters']), []).append(
                record['metrics'].get(metric))
    series = []
    for iters in sorted(values):
        stat = seed_range(values[iters])
        if stat is not None:
            series.append((iters, stat))
    return series


def plot_schedules(records: Sequence[dict], variants: Sequence[str],
                   metrics: Sequence[Tuple[str, str]], path: str,
                   title: Optional[str] = None) -> None:
    """One panel per metric: the mean over seeds against the budget, one
    line per variant, the bars spanning the seed range (min to max).

    Args:
        records (Sequence[dict]): ``metrics.json`` contents.
        variants (Sequence[str]): The variants, in legend order.
        metrics (Sequence[tuple[str, str]]): ``(key, title)`` per panel.
        path (str): The PNG to write.
        title (str, optional): Figure title.
    """
    from mmpanoptic_cabb.analysis.plots import agg_pyplot
    plt = agg_pyplot()
    fig, axes = plt.subplots(
        1, len(metrics), figsize=(3.2 * len(metrics), 3.2), squeeze=False)
    for ax, (key, name) in zip(axes[0], metrics):
        for k, variant in enumerate(variants):
            series = schedule_series(records, variant, key)
            if not series:
                continue
            iters = [it for it, _ in series]
            mean = [s[0] for _, s in series]
            low = [s[0] - s[1] for _, s in series]
            high = [s[2] - s[0] for _, s in series]
            ax.errorbar(iters, mean, yerr=[low, high], marker='o',
                        markersize=4, capsize=3, color=f'C{k}',
                        label=variant)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel('training iterations')
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel('%')
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc='lower center',
                   ncol=len(labels), fontsize=8, frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)
