"""One counting pass over a (ground truth, prediction) pair of id maps.

The pass produces the *segment confusion matrix* ``M`` of an image:
``M[i, j]`` is the number of pixels that belong to ground-truth segment ``i``
and predicted segment ``j``. Every panoptic metric of this package (PQ, PQ†,
Parsing Covering, semantic mIoU) is a function of ``M`` and of the segments'
labels, so an image is read once and no per-segment full-image mask is ever
built.

Rows of ``M``: ``0`` = ground-truth void (id 0), ``1..G`` = the listed
ground-truth segments in the order given, ``G + 1`` = pixels whose id is
listed nowhere ("unlisted"). Columns: ``0`` = predicted void, ``1..P`` = the
listed predicted segments.

Panoptic id maps are piecewise constant, so the pass works on runs: it finds
the positions where the ground truth or the prediction changes along the
flattened image, and counts whole runs (with their lengths as weights)
instead of single pixels. A 12 MP map with a few hundred thousand runs is
counted in a few tens of milliseconds.
"""
from typing import Optional, Tuple

import numpy as np


def run_length_pairs(gt_map: np.ndarray,
                     pred_map: np.ndarray) -> Tuple[np.ndarray, np.ndarray,
                                                    np.ndarray]:
    """Split two equally shaped maps into runs of constant (gt, pred) value.

    Args:
        gt_map (np.ndarray): Ground-truth id map, any integer dtype.
        pred_map (np.ndarray): Predicted id map of the same shape.

    Returns:
        tuple[np.ndarray, np.ndarray, np.ndarray]: The ground-truth value, the
        predicted value and the length (int64) of every run, in raster order.
    """
    if gt_map.shape != pred_map.shape:
        raise ValueError(f'shape mismatch: ground truth {gt_map.shape}, '
                         f'prediction {pred_map.shape}')
    gt_flat = np.ascontiguousarray(gt_map).reshape(-1)
    pred_flat = np.ascontiguousarray(pred_map).reshape(-1)
    num = gt_flat.size
    if num == 0:
        empty = np.zeros(0, dtype=np.int64)
        return gt_flat[:0], pred_flat[:0], empty
    change = np.empty(num, dtype=bool)
    change[0] = True
    np.not_equal(gt_flat[1:], gt_flat[:-1], out=change[1:])
    np.logical_or(change[1:], pred_flat[1:] != pred_flat[:-1],
                  out=change[1:])
    starts = np.flatnonzero(change)
    lengths = np.diff(starts, append=num)
    return gt_flat[starts], pred_flat[starts], lengths


def map_ids_to_indices(values: np.ndarray,
                       ids: np.ndarray,
                       void_ids: np.ndarray,
                       unknown_index: int) -> np.ndarray:
    """Map segment ids to contiguous indices.

    Args:
        values (np.ndarray): Ids to map (e.g. run values), any integer dtype.
        ids (np.ndarray): The listed segment ids, unique, shape (S,).
        void_ids (np.ndarray): Ids that mean void (mapped to 0).
        unknown_index (int): Index given to values found in neither.

    Returns:
        np.ndarray: int64 indices: 0 for void, ``k + 1`` for ``ids[k]``,
        ``unknown_index`` otherwise.
    """
    keys = np.concatenate([
        np.asarray(void_ids, dtype=np.int64).reshape(-1),
        np.asarray(ids, dtype=np.int64).reshape(-1)
    ])
    targets = np.concatenate([
        np.zeros(np.size(void_ids), dtype=np.int64),
        np.arange(1, np.size(ids) + 1, dtype=np.int64)
    ])
    values = np.asarray(values).astype(np.int64, copy=False)
    if keys.size == 0:
        return np.full(values.shape, unknown_index, dtype=np.int64)
    order = np.argsort(keys, kind='stable')
    sorted_keys = keys[order]
    pos = np.minimum(np.searchsorted(sorted_keys, values), keys.size - 1)
    found = sorted_keys[pos] == values
    return np.where(found, targets[order[pos]], unknown_index)


def confusion_from_runs(
    gt_vals: np.ndarray,
    pred_vals: np.ndarray,
    lengths: np.ndarray,
    gt_ids: np.ndarray,
    pred_ids: np.ndarray,
    gt_void_ids: np.ndarray,
    pred_void_ids: np.ndarray
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Segment confusion from the runs of :func:`run_length_pairs`.

    Args:
        gt_vals (np.ndarray): Ground-truth value of every run.
        pred_vals (np.ndarray): Predicted value of every run.
        lengths (np.ndarray): Length of every run.
        gt_ids (np.ndarray): Listed ground-truth segment ids, shape (G,).
        pred_ids (np.ndarray): Listed predicted segment ids, shape (P,).
        gt_void_ids (np.ndarray): Ground-truth ids meaning void.
        pred_void_ids (np.ndarray): Predicted ids meaning void.

    Returns:
        tuple[np.ndarray, np.ndarray, np.ndarray]:

        - ``confusion``: int64 (G + 2, P + 1), rows and columns as described
          in the module docstring;
        - the sorted ground-truth ids present in the map but neither listed
          nor void;
        - the sorted predicted ids present in the map but neither listed nor
          void (those pixels are not counted in ``confusion``).
    """
    gt_ids = np.asarray(gt_ids, dtype=np.int64).reshape(-1)
    pred_ids = np.asarray(pred_ids, dtype=np.int64).reshape(-1)
    num_gt, num_pred = gt_ids.size, pred_ids.size
    gt_idx = map_ids_to_indices(gt_vals, gt_ids, gt_void_ids, num_gt + 1)
    pred_idx = map_ids_to_indices(pred_vals, pred_ids, pred_void_ids,
                                  num_pred + 1)
    width = num_pred + 2
    counts = np.bincount(
        gt_idx * width + pred_idx,
        weights=lengths,
        minlength=(num_gt + 2) * width)
    confusion = counts.astype(np.int64).reshape(num_gt + 2, width)
    unknown_gt = np.unique(gt_vals[gt_idx == num_gt + 1])
    unknown_pred = np.unique(pred_vals[pred_idx == num_pred + 1])
    return confusion[:, :num_pred + 1], unknown_gt, unknown_pred


def segment_confusion(
    gt_map: np.ndarray,
    pred_map: np.ndarray,
    gt_ids: np.ndarray,
    pred_ids: np.ndarray,
    gt_void_ids: Optional[np.ndarray] = None,
    pred_void_ids: Optional[np.ndarray] = None
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Count the pixels of every (ground truth, prediction) segment pair.

    Args:
        gt_map (np.ndarray): Ground-truth id map (H, W).
        pred_map (np.ndarray): Predicted id map (H, W).
        gt_ids (np.ndarray): Listed ground-truth segment ids, shape (G,).
        pred_ids (np.ndarray): Listed predicted segment ids, shape (P,).
        gt_void_ids (np.ndarray, optional): Ground-truth ids meaning void.
            Defaults to ``[0]``.
        pred_void_ids (np.ndarray, optional): Predicted ids meaning void.
            Defaults to ``[0]``.

    Returns:
        tuple[np.ndarray, np.ndarray, np.ndarray]: See
        :func:`confusion_from_runs`.
    """
    zero = np.zeros(1, dtype=np.int64)
    gt_void_ids = zero if gt_void_ids is None else gt_void_ids
    pred_void_ids = zero if pred_void_ids is None else pred_void_ids
    gt_vals, pred_vals, lengths = run_length_pairs(gt_map, pred_map)
    return confusion_from_runs(gt_vals, pred_vals, lengths, gt_ids, pred_ids,
                               gt_void_ids, pred_void_ids)


def confusion_with_panoptic_pred(
    gt_map: np.ndarray,
    gt_ids: np.ndarray,
    pan_map: np.ndarray,
    num_classes: int,
    instance_offset: int = 1000
) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Segment confusion against an mmdet panoptic prediction map.

    mmdet's panoptic heads encode a pixel as ``label + instance *
    instance_offset``; labels ``>= num_classes`` (and negative values) are
    void. Every other distinct value is a predicted segment.

    Args:
        gt_map (np.ndarray): Ground-truth id map (H, W) (0 = void).
        gt_ids (np.ndarray): Listed ground-truth segment ids, shape (G,).
        pan_map (np.ndarray): Predicted panoptic map (H, W).
        num_classes (int): Number of classes.
        instance_offset (int): mmdet's ``INSTANCE_OFFSET``.

    Returns:
        tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]: confusion
        (G + 2, P + 1), the predicted segments' values (P,) and labels (P,),
        and the unlisted ground-truth ids.
    """
    gt_vals, pred_vals, lengths = run_length_pairs(gt_map, pan_map)
    values = np.unique(pred_vals).astype(np.int64)
    labels = values % instance_offset
    void = (values < 0) | (labels >= num_classes)
    pred_ids, pred_labels = values[~void], labels[~void]
    confusion, unknown_gt, _ = confusion_from_runs(
        gt_vals, pred_vals, lengths, gt_ids, pred_ids,
        np.zeros(1, dtype=np.int64), values[void])
    return confusion, pred_ids, pred_labels, unknown_gt
