"""Figures shared by the study report and ``plot_ap_by_size.py``.

- :func:`plot_ap_by_size`: Fig. 5 of the paper, box and mask AP per bucket of
  ground-truth instance area (percentiles), one line per series;
- :func:`plot_pq_per_class`: PQ of every class, one bar per series.

Series are plain dicts, so any source of metrics can be drawn: the study's
aggregated seeds, mmengine's test JSON, the metrics of one run.
"""
import re
from typing import Dict, List, Optional, Sequence, Tuple

#: (metric key prefix, name) of the instance AP types.
AP_TYPES = (('bbox', 'box'), ('segm', 'mask'))
#: A bucket's AP key: ``<type>_mAP_p<low>-<high>``.
BUCKET_KEY = re.compile(r'^(bbox|segm)_mAP_(p[\d.]+-[\d.]+)$')

#: ``{'bbox' | 'segm': {bucket label: (value, error bar)}}``.
BucketValues = Dict[str, Dict[str, Tuple[float, float]]]


def bucket_title(label: str) -> str:
    """``p25-50`` -> ``25–50``."""
    return label[1:].replace('-', '–')


def sort_buckets(labels) -> List[str]:
    """Bucket labels (``p<lo>-<hi>``) by lower edge, duplicates dropped."""
    return sorted(set(labels), key=lambda s: float(s[1:].split('-')[0]))


def bucket_values(metrics: Dict[str, Optional[float]]) -> BucketValues:
    """The bucket APs of one metrics dict (keys without prefix), no error
    bars; None / NaN values are left out.

    Args:
        metrics (dict): e.g. ``{'bbox_mAP_p0-25': 31.5, ...}``.

    Returns:
        dict: ``{'bbox': {'p0-25': (31.5, 0.0), ...}, 'segm': {...}}``.
    """
    out: BucketValues = {prefix: {} for prefix, _ in AP_TYPES}
    for key, value in metrics.items():
        match = BUCKET_KEY.match(key)
        if match and value is not None and value == value:
            out[match.group(1)][match.group(2)] = (float(value), 0.0)
    return out


def agg_pyplot():
    """matplotlib's pyplot on the Agg backend (no display needed)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def plot_ap_by_size(series: Sequence[Tuple[str, BucketValues]],
                    path: str,
                    title: Optional[str] = None,
                    bucket_ranges: Optional[Dict[str, Sequence[float]]] = None,
                    dpi: int = 90) -> List[str]:
    """Fig. 5: box and mask AP per area-percentile bucket, two panels.

    Args:
        series (Sequence[tuple[str, dict]]): ``(legend label, values)``,
            values as :func:`bucket_values` returns them (error bars drawn
            when non-zero).
        path (str): Output PNG.
        title (str, optional): Figure title.
        bucket_ranges (dict, optional): Bucket label -> ``[low, high]``
            areas in pixels, added to the tick labels.
        dpi (int): Resolution of the PNG.

    Returns:
        list[str]: The buckets on the x axis.
    """
    plt = agg_pyplot()
    buckets = sort_buckets(
        b for _, values in series for per in values.values() for b in per)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    width = 0.08
    for ax, (prefix, name) in zip(axes, AP_TYPES):
        for k, (label, values) in enumerate(series):
            offset = (k - (len(series) - 1) / 2) * width
            per = values.get(prefix, {})
            xs = [i + offset for i, b in enumerate(buckets) if b in per]
            ys = [per[b][0] for b in buckets if b in per]
            errs = [per[b][1] for b in buckets if b in per]
            if xs:
                ax.errorbar(xs, ys, yerr=errs if any(errs) else None,
                            marker='o', ms=4, capsize=3, lw=1.5, label=label)
        ticks = [bucket_title(b) for b in buckets]
        if bucket_ranges:
            ticks = [
                '{}\n{:.0f}–{:.0f} px'.format(t, *bucket_ranges[b][:2])
                if b in bucket_ranges else t for t, b in zip(ticks, buckets)
            ]
        ax.set_xticks(range(len(buckets)))
        ax.set_xticklabels(ticks, fontsize=8)
        ax.set_xlabel('GT instance area percentile')
        ax.set_title(f'{name} AP by object size')
        ax.grid(alpha=0.3)
    axes[0].set_ylabel('AP (%)')
    if series:
        axes[1].legend(fontsize=8, loc='best')
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return buckets


def plot_pq_per_class(series: Sequence[Tuple[str, Dict[str, float]]],
                      path: str,
                      things: Sequence[str] = (),
                      title: Optional[str] = None,
                      dpi: int = 90) -> List[str]:
    """PQ of every class, grouped bars (one colour per series).

    Args:
        series (Sequence[tuple[str, dict]]): ``(legend label, {class: PQ})``
            (classes without a value are left out of that series).
        path (str): Output PNG.
        things (Sequence[str]): Thing classes, marked ``(th)``.
        title (str, optional): Figure title.
        dpi (int): Resolution of the PNG.

    Returns:
        list[str]: The classes on the x axis, in order of first appearance.
    """
    plt = agg_pyplot()
    classes = list(dict.fromkeys(c for _, per in series for c in per))
    fig, ax = plt.subplots(figsize=(max(5.0, 0.45 * len(classes) *
                                        max(1, len(series)) + 2), 3.6))
    width = 0.8 / max(1, len(series))
    for k, (label, per) in enumerate(series):
        xs = [i - 0.4 + width * (k + 0.5) for i, c in enumerate(classes)
              if per.get(c) is not None]
        ys = [per[c] for c in classes if per.get(c) is not None]
        ax.bar(xs, ys, width=width, label=label)
    ax.set_xticks(range(len(classes)))
    ax.set_xticklabels([f'{c} (th)' if c in things else c for c in classes],
                       rotation=45, ha='right', fontsize=8)
    ax.set_ylabel('PQ (%)')
    ax.set_ylim(0, 100)
    ax.grid(axis='y', alpha=0.3)
    if series:
        ax.legend(fontsize=8, loc='best')
    ax.set_title(title or 'PQ per class', fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return classes
