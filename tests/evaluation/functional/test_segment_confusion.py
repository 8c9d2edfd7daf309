"""The run-length counting pass over pairs of panoptic id maps.

The PNG codec's tests are in ``tests/structures/test_panoptic_png.py``.
"""
import numpy as np

from mmpanoptic_cabb.evaluation.functional import (run_length_pairs,
                                                   segment_confusion)
from mmpanoptic_cabb.structures.panoptic_png import MAX_PANOPTIC_ID


def _random_ids(seed, shape=(37, 53)):
    rng = np.random.default_rng(seed)
    palette = rng.integers(1, MAX_PANOPTIC_ID + 1, 12)
    return palette[rng.integers(0, 12, shape)].astype(np.int64)


def test_confusion_counts_every_pixel_pair():
    gt, pred = _random_ids(3), _random_ids(4)
    gt_ids = np.unique(gt)[1:]  # leave one id unlisted
    pred_ids = np.unique(pred)
    confusion, unknown_gt, unknown_pred = segment_confusion(
        gt, pred, gt_ids, pred_ids)
    assert unknown_pred.size == 0
    assert list(unknown_gt) == [np.unique(gt)[0]]
    for i, g in enumerate(gt_ids):
        for j, p in enumerate(pred_ids):
            assert confusion[i + 1, j + 1] == np.sum((gt == g) & (pred == p))
    assert confusion[-1, 1:].sum() == np.sum(gt == unknown_gt[0])
    gt_vals, _, lengths = run_length_pairs(gt, pred)
    assert lengths.sum() == gt.size and gt_vals.size < gt.size
