"""Turn summed :class:`PanopticStats` into metrics and tables."""
from typing import Dict, List, Optional, Sequence

import numpy as np

from .panoptic_stats import PanopticStats

# keys of the summary, in the order they are printed
SUMMARY_KEYS = ('PQ', 'SQ', 'RQ', 'PQ_th', 'SQ_th', 'RQ_th', 'PQ_st', 'SQ_st',
                'RQ_st', 'PQ_dagger', 'PQ_dagger_th', 'PQ_dagger_st', 'PC',
                'PC_th', 'PC_st', 'mIoU')


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(
        num.astype(np.float64),
        den.astype(np.float64),
        out=np.zeros(num.shape, dtype=np.float64),
        where=den > 0)


def per_class_metrics(stats: PanopticStats,
                      is_thing: np.ndarray) -> Dict[str, np.ndarray]:
    """Per-class values (fractions in [0, 1]) and validity masks.

    Args:
        stats (PanopticStats): Statistics summed over the dataset.
        is_thing (np.ndarray): (C,) bool.

    Returns:
        dict[str, np.ndarray]: ``pq, sq, rq, pq_dagger, pc, iou`` values and
        ``pq_valid, pq_dagger_valid, pc_valid, iou_valid`` masks, all (C,).
        A class is valid for PQ when it has a TP, FP or FN (panopticapi), for
        PQ† when it is a thing valid for PQ or a stuff class with ground
        truth, for PC when it has ground-truth area, for IoU when the union
        of its ground truth and prediction is not empty.
    """
    is_thing = np.asarray(is_thing, dtype=bool)
    tp, fp, fn = stats.pq_tp, stats.pq_fp, stats.pq_fn
    pq_den = tp + 0.5 * fp + 0.5 * fn
    pq = _safe_div(stats.pq_iou, pq_den)
    sq = _safe_div(stats.pq_iou, tp)
    rq = _safe_div(tp.astype(np.float64), pq_den)
    pq_valid = (tp + fp + fn) > 0

    stuff_dagger = _safe_div(stats.dagger_iou, stats.dagger_count)
    pq_dagger = np.where(is_thing, pq, stuff_dagger)
    pq_dagger_valid = np.where(is_thing, pq_valid, stats.dagger_count > 0)

    pc = _safe_div(stats.pc_iou, stats.pc_area)
    pc_valid = stats.pc_area > 0

    conf = stats.semantic_confusion()
    num_classes = stats.num_classes
    inter = np.diag(conf)[:num_classes]
    gt_total = conf[:num_classes, :].sum(axis=1)
    pred_total = conf[:num_classes, :num_classes].sum(axis=0)
    union = gt_total + pred_total - inter
    iou = _safe_div(inter, union)
    return dict(
        pq=pq,
        sq=sq,
        rq=rq,
        pq_valid=pq_valid,
        pq_dagger=pq_dagger,
        pq_dagger_valid=pq_dagger_valid,
        pc=pc,
        pc_valid=pc_valid,
        iou=iou,
        iou_valid=union > 0)


def _mean(values: np.ndarray, mask: np.ndarray) -> float:
    return float(values[mask].mean()) if mask.any() else 0.0


def summarize_panoptic_stats(
        stats: PanopticStats,
        is_thing: Sequence[bool],
        class_names: Optional[Sequence[str]] = None) -> Dict[str, object]:
    """Compute the dataset metrics, in percent.

    Averages are taken over the valid classes of each group (see
    :func:`per_class_metrics`); a group without valid classes scores 0.

    Args:
        stats (PanopticStats): Statistics summed over the dataset.
        is_thing (Sequence[bool]): Whether each class is a thing.
        class_names (Sequence[str], optional): Class names for the per-class
            table. Defaults to the label numbers.

    Returns:
        dict: the keys of :data:`SUMMARY_KEYS` (floats, x100), ``n``, ``n_th``
        and ``n_st`` (numbers of classes averaged by PQ) and ``per_class``, a
        list with one dict per class (``name, isthing, PQ, SQ, RQ, PQ_dagger,
        PC, IoU`` x100 or None when not valid, and ``TP, FP, FN``).
    """
    is_thing = np.asarray(is_thing, dtype=bool)
    metrics = per_class_metrics(stats, is_thing)
    groups = {'': np.ones_like(is_thing), '_th': is_thing, '_st': ~is_thing}
    out: Dict[str, object] = {}
    for suffix, group in groups.items():
        valid = metrics['pq_valid'] & group
        for key in ('pq', 'sq', 'rq'):
            out[key.upper() + suffix] = 100 * _mean(metrics[key], valid)
        out['PQ_dagger' + suffix] = 100 * _mean(
            metrics['pq_dagger'], metrics['pq_dagger_valid'] & group)
        out['PC' + suffix] = 100 * _mean(metrics['pc'],
                                         metrics['pc_valid'] & group)
        out['n' + suffix] = int(valid.sum())
    out['mIoU'] = 100 * _mean(metrics['iou'], metrics['iou_valid'])

    if class_names is None:
        class_names = [str(i) for i in range(stats.num_classes)]
    per_class: List[dict] = []
    for label, name in enumerate(class_names):

        def pick(key: str, valid_key: str) -> Optional[float]:
            if not metrics[valid_key][label]:
                return None
            return 100 * float(metrics[key][label])

        per_class.append(
            dict(
                name=name,
                isthing=bool(is_thing[label]),
                PQ=pick('pq', 'pq_valid'),
                SQ=pick('sq', 'pq_valid'),
                RQ=pick('rq', 'pq_valid'),
                PQ_dagger=pick('pq_dagger', 'pq_dagger_valid'),
                PC=pick('pc', 'pc_valid'),
                IoU=pick('iou', 'iou_valid'),
                TP=int(stats.pq_tp[label]),
                FP=int(stats.pq_fp[label]),
                FN=int(stats.pq_fn[label])))
    out['per_class'] = per_class
    return out


def format_summary_table(summary: Dict[str, object]) -> str:
    """Render the headline metrics as a text table.

    Args:
        summary (dict): Output of :func:`summarize_panoptic_stats`.

    Returns:
        str: The table.
    """
    header = f'{"":8s}|{"PQ":>7s}{"SQ":>7s}{"RQ":>7s}{"PQ†":>7s}' \
             f'{"PC":>7s}{"N":>5s}'
    lines = [header, '-' * len(header)]
    for title, suffix in (('All', ''), ('Things', '_th'), ('Stuff', '_st')):
        values = [summary[k + suffix] for k in ('PQ', 'SQ', 'RQ')]
        values += [summary['PQ_dagger' + suffix], summary['PC' + suffix]]
        cells = ''.join(f'{v:7.2f}' for v in values)
        lines.append(f'{title:8s}|{cells}{summary["n" + suffix]:5d}')
    lines.append(f'mIoU: {summary["mIoU"]:.2f}')
    return '\n'.join(lines)


def format_per_class_table(summary: Dict[str, object]) -> str:
    """Render the per-class metrics as a text table.

    Args:
        summary (dict): Output of :func:`summarize_panoptic_stats`.

    Returns:
        str: The table (``-`` for classes a metric does not average).
    """
    keys = ('PQ', 'SQ', 'RQ', 'PQ_dagger', 'PC', 'IoU')
    header = f'{"class":24s} {"kind":5s}' + ''.join(
        f'{k.replace("_dagger", "†"):>7s}' for k in keys) + \
        f'{"TP":>7s}{"FP":>7s}{"FN":>7s}'
    lines = [header, '-' * len(header)]
    for row in summary['per_class']:
        cells = ''.join('      -' if row[k] is None else f'{row[k]:7.2f}'
                        for k in keys)
        kind = 'thing' if row['isthing'] else 'stuff'
        lines.append(f'{str(row["name"])[:24]:24s} {kind:5s}{cells}'
                     f'{row["TP"]:7d}{row["FP"]:7d}{row["FN"]:7d}')
    return '\n'.join(lines)
