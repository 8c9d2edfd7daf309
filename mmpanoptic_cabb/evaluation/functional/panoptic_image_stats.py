"""Per-image statistics of PQ, PQ†, Parsing Covering and mIoU.

All of them are computed from one segment confusion matrix (see
:mod:`.segment_confusion`), vectorised over segment pairs.

Definitions (per image; the sums over images are formed by
:class:`PanopticStats` and turned into metrics by
:func:`summarize_panoptic_stats`):

* **PQ** follows the COCO panopticapi protocol exactly. A ground-truth
  segment ``g`` (not crowd) and a predicted segment ``p`` of the same class
  match when ``IoU(g, p) > 0.5`` with
  ``IoU = |g ∩ p| / (|g| + |p| - |g ∩ p| - |void ∩ p|)`` (ground-truth void
  pixels are removed from the prediction). Unmatched non-crowd ground truth
  is a false negative. An unmatched prediction is a false positive unless more
  than half of it lies on ground-truth void plus the crowd region of its
  class; like panopticapi, the crowd region of a class is the last crowd
  segment of that class listed in the image's annotation (COCO has at most
  one per class and image).
* **PQ†** (Porzi et al., "Seamless Scene Segmentation", CVPR 2019): thing
  classes use PQ unchanged. For a stuff class ``c`` the 0.5 threshold is
  dropped: every same-class pair (non-crowd ground truth, prediction) with a
  non-empty intersection adds its IoU (the PQ IoU above) to a sum, there are
  no false positives or negatives, and
  ``PQ†_c = sum of those IoUs / |S_c|`` where ``|S_c|`` is the number of
  non-empty non-crowd ground-truth segments of ``c`` over the dataset. With
  one stuff segment per class and image this is the mean, over the images
  whose ground truth contains ``c``, of the IoU of class ``c`` in the image
  (0 when ``c`` is not predicted there).
* **Parsing Covering** (Yang et al., "DeeperLab", 2019), as the reference
  implementation accumulates it: for every non-crowd ground-truth region
  ``R`` of class ``c``, ``max`` over predicted regions ``R'`` of class ``c``
  of ``|R ∩ R'| / (|R| + |R'| - |R ∩ R'|)``, where ``|R'|`` only counts
  pixels on non-void, non-crowd ground truth (void and crowd are the ignored
  label). ``pc_iou[c] += |R| / N * maxIoU`` and ``pc_area[c] += |R| / N``
  with ``N`` the number of pixels of the image (``N = 1`` without
  normalisation); ``PC_c = pc_iou[c] / pc_area[c]``.
* **Semantic confusion** for mIoU: every pixel votes (class of its
  ground-truth segment, class of its predicted segment); crowd pixels keep
  their class, void and unlisted ground-truth pixels are void, predicted void
  is its own column (a missed pixel of its ground-truth class).
"""
from typing import Optional

import numpy as np

from .panoptic_stats import PanopticStats


def _per_class_sum(labels: np.ndarray,
                   num_classes: int,
                   weights: Optional[np.ndarray] = None) -> np.ndarray:
    """Sum weights (or count items) per label."""
    out = np.bincount(labels, weights=weights, minlength=num_classes)
    return out if weights is not None else out.astype(np.int64)


def image_panoptic_stats(confusion: np.ndarray,
                         gt_labels: np.ndarray,
                         gt_crowd: np.ndarray,
                         pred_labels: np.ndarray,
                         is_thing: np.ndarray,
                         num_pixels: Optional[int] = None,
                         pc_normalize: bool = True) -> PanopticStats:
    """Compute the statistics of one image from its segment confusion.

    Args:
        confusion (np.ndarray): (G + 2, P + 1) segment confusion from
            :func:`segment_confusion`.
        gt_labels (np.ndarray): (G,) contiguous class labels of the listed
            ground-truth segments.
        gt_crowd (np.ndarray): (G,) bool, crowd flags of those segments.
        pred_labels (np.ndarray): (P,) class labels of the predicted
            segments.
        is_thing (np.ndarray): (C,) bool, whether each class is a thing.
        num_pixels (int, optional): Pixels of the image, for the Parsing
            Covering normalisation. Defaults to ``confusion.sum()``.
        pc_normalize (bool): Divide Parsing Covering areas by the image size
            (DeeperLab's default). Defaults to True.

    Returns:
        PanopticStats: Statistics of the image.
    """
    is_thing = np.asarray(is_thing, dtype=bool)
    num_classes = is_thing.size
    gt_labels = np.asarray(gt_labels, dtype=np.int64).reshape(-1)
    gt_crowd = np.asarray(gt_crowd, dtype=bool).reshape(-1)
    pred_labels = np.asarray(pred_labels, dtype=np.int64).reshape(-1)
    num_gt, num_pred = gt_labels.size, pred_labels.size
    if confusion.shape != (num_gt + 2, num_pred + 1):
        raise ValueError(f'confusion of shape {confusion.shape} does not fit '
                         f'{num_gt} ground-truth and {num_pred} predicted '
                         'segments')
    for name, labels in (('ground-truth', gt_labels),
                         ('predicted', pred_labels)):
        if labels.size and (labels.min() < 0
                            or labels.max() >= num_classes):
            raise ValueError(f'{name} labels must lie in [0, {num_classes})')
    if num_pixels is None:
        num_pixels = int(confusion.sum())

    inter = confusion[1:num_gt + 1, 1:].astype(np.float64)
    gt_area = confusion[1:num_gt + 1].sum(axis=1).astype(np.float64)
    pred_area = confusion[:, 1:].sum(axis=0).astype(np.float64)
    pred_on_void = confusion[0, 1:].astype(np.float64)
    regular = ~gt_crowd
    overlap = ((gt_labels[:, None] == pred_labels[None, :]) & (inter > 0)
               & regular[:, None])

    # ---- PQ (panopticapi) ----
    union = gt_area[:, None] + pred_area[None, :] - inter - pred_on_void
    iou = np.divide(
        inter, union, out=np.zeros_like(inter), where=overlap)
    match_rows, match_cols = np.nonzero(overlap & (iou > 0.5))
    gt_matched = np.zeros(num_gt, dtype=bool)
    gt_matched[match_rows] = True
    pred_matched = np.zeros(num_pred, dtype=bool)
    pred_matched[match_cols] = True
    match_labels = gt_labels[match_rows]
    pq_tp = _per_class_sum(match_labels, num_classes)
    pq_iou = _per_class_sum(match_labels, num_classes,
                            iou[match_rows, match_cols])
    pq_fn = _per_class_sum(gt_labels[regular & ~gt_matched], num_classes)

    crowd_row = np.full(num_classes, -1, dtype=np.int64)
    for row in np.flatnonzero(gt_crowd):  # the last listed crowd wins
        crowd_row[gt_labels[row]] = row
    pred_crowd_row = crowd_row[pred_labels]
    has_crowd = pred_crowd_row >= 0
    on_crowd = np.zeros(num_pred, dtype=np.float64)
    cols = np.flatnonzero(has_crowd)
    on_crowd[cols] = inter[pred_crowd_row[cols], cols]
    ignored_share = np.divide(
        pred_on_void + on_crowd,
        pred_area,
        out=np.ones(num_pred),
        where=pred_area > 0)
    false_pos = ~pred_matched & (ignored_share <= 0.5)
    pq_fp = _per_class_sum(pred_labels[false_pos], num_classes)

    # ---- PQ† stuff term ----
    stuff_gt = ~is_thing[gt_labels] if num_gt else np.zeros(0, dtype=bool)
    pair_rows, pair_cols = np.nonzero(overlap & stuff_gt[:, None])
    dagger_iou = _per_class_sum(gt_labels[pair_rows], num_classes,
                                iou[pair_rows, pair_cols])
    dagger_count = _per_class_sum(
        gt_labels[regular & stuff_gt & (gt_area > 0)], num_classes)

    # ---- Parsing Covering (DeeperLab) ----
    pred_area_pc = confusion[1:num_gt + 1][regular, 1:].sum(axis=0)
    pc_union = gt_area[:, None] + pred_area_pc[None, :] - inter
    pc_iou_pairs = np.divide(
        inter, pc_union, out=np.zeros_like(inter), where=overlap)
    max_iou = (
        pc_iou_pairs.max(axis=1) if num_pred else np.zeros(num_gt))
    norm = float(num_pixels) if pc_normalize else 1.0
    region_area = gt_area[regular] / norm
    pc_iou = _per_class_sum(gt_labels[regular], num_classes,
                            region_area * max_iou[regular])
    pc_area = _per_class_sum(gt_labels[regular], num_classes, region_area)

    # ---- semantic confusion (sparse) ----
    void = num_classes
    row_label = np.concatenate([[void], gt_labels, [void]])
    col_label = np.concatenate([[void], pred_labels])
    nz_rows, nz_cols = np.nonzero(confusion)
    flat = row_label[nz_rows] * (num_classes + 1) + col_label[nz_cols]
    sem_index, inverse = np.unique(flat, return_inverse=True)
    sem_count = np.bincount(
        inverse, weights=confusion[nz_rows, nz_cols].astype(np.float64),
        minlength=sem_index.size)

    return PanopticStats(
        num_classes=num_classes,
        pq_tp=pq_tp,
        pq_fp=pq_fp,
        pq_fn=pq_fn,
        pq_iou=pq_iou.astype(np.float64),
        dagger_iou=dagger_iou.astype(np.float64),
        dagger_count=dagger_count,
        pc_iou=pc_iou.astype(np.float64),
        pc_area=pc_area.astype(np.float64),
        sem_index=sem_index.astype(np.int64),
        sem_count=sem_count.astype(np.int64))
