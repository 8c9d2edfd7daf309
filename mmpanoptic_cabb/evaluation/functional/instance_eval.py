"""Box and mask mAP of an instance branch with pycocotools' COCOeval.

Besides the standard COCO numbers, AP and AR (the recall at ``max_dets``,
averaged over the IoU thresholds 0.5:0.95 and the classes, like COCO's AR)
are reported per bucket of ground-truth instance area, the buckets being
delimited by percentiles of the areas of the non-crowd ground-truth
instances of the evaluated set (default 0-25, 25-50, 50-75, 75-95, 95-99 and
99-100). A bucket includes its upper edge and, for the first one, its lower
edge. AR tells a bucket's missed objects from its false detections: a low AP
with a high AR means the objects are found but outranked.
"""
import contextlib
import io
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

DEFAULT_PERCENTILES = (25, 50, 75, 95, 99)
_COCO_AREAS = ([0, 1e10], [0, 32**2], [32**2, 96**2], [96**2, 1e10])
_COCO_LABELS = ('all', 'small', 'medium', 'large')
_STAT_NAMES = ('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l')


def percentile_buckets(
        areas: np.ndarray,
        percentiles: Sequence[float] = DEFAULT_PERCENTILES
) -> Tuple[List[List[float]], List[str]]:
    """Area ranges between consecutive percentiles of ``areas``.

    Args:
        areas (np.ndarray): Areas of the ground-truth instances.
        percentiles (Sequence[float]): Inner edges, increasing, in (0, 100).

    Returns:
        tuple[list[list[float]], list[str]]: COCOeval ``areaRng`` entries and
        their labels ``'p<lo>-<hi>'``.
    """
    edges = [0.0, *[float(p) for p in percentiles], 100.0]
    if list(edges) != sorted(edges):
        raise ValueError(f'percentiles must increase: {percentiles}')
    if len(areas) == 0:
        values = np.zeros(len(edges))
    else:
        values = np.percentile(np.asarray(areas, dtype=np.float64), edges)
    ranges, labels = [], []
    for k in range(len(edges) - 1):
        low = values[k] if k == 0 else np.nextafter(values[k], np.inf)
        ranges.append([float(low), float(values[k + 1])])
        labels.append(f'p{edges[k]:g}-{edges[k + 1]:g}')
    return ranges, labels


def _coco_from_images(images: Sequence[dict],
                      categories: Sequence[dict]) -> COCO:
    anns = []
    for image in images:
        for inst in image['instances']:
            anns.append(
                dict(inst, id=len(anns) + 1, image_id=image['image_id']))
    coco = COCO()
    coco.dataset = dict(
        images=[
            dict(id=im['image_id'], height=im['height'], width=im['width'])
            for im in images
        ],
        annotations=anns,
        categories=[dict(id=c['id'], name=c['name']) for c in categories])
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def _mean_of_evaluated(values: np.ndarray) -> float:
    """Mean of COCOeval entries, leaving out the -1 of unevaluated cells
    (NaN if none is evaluated)."""
    values = values[values > -1]
    return float(values.mean()) if values.size else float('nan')


def _bucket_ap(precision: np.ndarray, area_index: int) -> float:
    """Mean precision of one area range at the last maxDets (NaN if none)."""
    return _mean_of_evaluated(precision[:, :, :, area_index, -1])


def _bucket_ar(recall: np.ndarray, area_index: int) -> float:
    """Mean recall of one area range at the last maxDets (NaN if none)."""
    return _mean_of_evaluated(recall[:, :, area_index, -1])


def evaluate_instances(gt_images: Sequence[dict],
                       pred_images: Sequence[dict],
                       categories: Sequence[dict],
                       iou_types: Sequence[str] = ('bbox', 'segm'),
                       percentiles: Optional[Sequence[float]] = (
                           DEFAULT_PERCENTILES),
                       max_dets: int = 100,
                       classwise: bool = False) -> Dict[str, object]:
    """COCO box/mask AP (in percent), overall and per area percentile.

    Args:
        gt_images (Sequence[dict]): Per image ``image_id, height, width`` and
            ``instances``: dicts with ``category_id, bbox (xywh),
            segmentation (RLE), area, iscrowd``.
        pred_images (Sequence[dict]): Per image ``image_id`` and
            ``instances``: dicts with ``category_id, bbox (xywh), score`` and,
            for mask AP, ``segmentation`` (RLE).
        categories (Sequence[dict]): Thing categories (``id``, ``name``).
        iou_types (Sequence[str]): Subset of ``('bbox', 'segm')``.
        percentiles (Sequence[float], optional): Inner percentile edges of
            the area buckets; None to skip the buckets.
        max_dets (int): Detections per image considered.
        classwise (bool): Also return per-class AP.

    Returns:
        dict: ``<iou>_mAP``, ``<iou>_mAP_50``, ``<iou>_mAP_75``,
        ``<iou>_mAP_s/m/l``, ``<iou>_mAP_p<lo>-<hi>`` and
        ``<iou>_mAR_p<lo>-<hi>`` (percent, NaN for an empty bucket),
        ``area_buckets`` (the pixel ranges) and, with
        ``classwise``, ``<iou>_per_class`` ({name: AP}). Also ``summary``:
        the text COCOeval printed.
    """
    gt_coco = _coco_from_images(gt_images, categories)
    areas = [
        a['area'] for a in gt_coco.dataset['annotations'] if not a['iscrowd']
    ]
    area_rng, area_lbl = list(_COCO_AREAS), list(_COCO_LABELS)
    bucket_lbl: List[str] = []
    if percentiles is not None:
        bucket_rng, bucket_lbl = percentile_buckets(np.array(areas),
                                                    percentiles)
        area_rng += bucket_rng
        area_lbl += bucket_lbl
    results: Dict[str, object] = dict(
        area_buckets={
            lbl: rng
            for lbl, rng in zip(area_lbl[len(_COCO_LABELS):],
                                area_rng[len(_COCO_LABELS):])
        })
    texts = []
    for iou_type in iou_types:
        dets = []
        for image in pred_images:
            for inst in image['instances']:
                det = dict(
                    image_id=image['image_id'],
                    category_id=inst['category_id'],
                    score=float(inst['score']))
                if iou_type == 'bbox':
                    det['bbox'] = [float(v) for v in inst['bbox']]
                else:
                    det['segmentation'] = inst['segmentation']
                dets.append(det)
        if not dets or not gt_coco.dataset['annotations']:
            for name in _STAT_NAMES:
                results[f'{iou_type}_{name}'] = 0.0
            for lbl in bucket_lbl:
                results[f'{iou_type}_mAP_{lbl}'] = float('nan')
                results[f'{iou_type}_mAR_{lbl}'] = float('nan')
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            dt_coco = gt_coco.loadRes(dets)
            coco_eval = COCOeval(gt_coco, dt_coco, iou_type)
            coco_eval.params.catIds = [c['id'] for c in categories]
            coco_eval.params.maxDets = [1, 10, max_dets]
            coco_eval.params.areaRng = area_rng
            coco_eval.params.areaRngLbl = area_lbl
            coco_eval.evaluate()
            coco_eval.accumulate()
            coco_eval.summarize()
        texts.append(f'{iou_type}:\n{out.getvalue()}')
        for name, value in zip(_STAT_NAMES, coco_eval.stats[:6]):
            results[f'{iou_type}_{name}'] = 100 * float(max(value, 0.0))
        precision = coco_eval.eval['precision']
        # pycocotools' summary takes its headline AP at maxDets=100 whatever
        # params.maxDets hold (0 when 100 is not among them): recompute it
        # at max_dets, area 'all' (index 0), like the other entries.
        headline = _bucket_ap(precision, 0)
        results[f'{iou_type}_mAP'] = 100 * headline if headline > 0 else 0.0
        recall = coco_eval.eval['recall']
        for k, lbl in enumerate(bucket_lbl):
            results[f'{iou_type}_mAP_{lbl}'] = 100 * _bucket_ap(
                precision, len(_COCO_LABELS) + k)
            results[f'{iou_type}_mAR_{lbl}'] = 100 * _bucket_ar(
                recall, len(_COCO_LABELS) + k)
        if classwise:
            per_class = {}
            # COCOeval orders the category axis by sorted id
            for k, cat in enumerate(sorted(categories,
                                           key=lambda c: c['id'])):
                per_class[cat['name']] = 100 * _mean_of_evaluated(
                    precision[:, :, k, 0, -1])
            results[f'{iou_type}_per_class'] = per_class
    results['summary'] = '\n'.join(texts)
    return results
