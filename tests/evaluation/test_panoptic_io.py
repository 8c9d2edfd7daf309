"""Panoptic PNG reading/writing and the run-length counting pass."""
import numpy as np
import pytest

from mmpanoptic_cabb.evaluation.functional import (PanopticFormatError,
                                                   id2rgb, read_panoptic_png,
                                                   rgb2id, run_length_pairs,
                                                   segment_confusion,
                                                   write_panoptic_png)
from mmpanoptic_cabb.evaluation.functional import panoptic_io


def _random_ids(seed, shape=(37, 53)):
    rng = np.random.default_rng(seed)
    palette = rng.integers(1, 256**3, 12)
    return palette[rng.integers(0, 12, shape)].astype(np.int64)


def test_rgb_round_trip():
    ids = _random_ids(0)
    np.testing.assert_array_equal(rgb2id(id2rgb(ids)), ids)
    assert tuple(id2rgb(np.array([1 + 256 * 2 + 65536 * 3]))[0]) == (1, 2, 3)
    with pytest.raises(ValueError):
        id2rgb(np.array([256**3]))


def test_png_round_trip(tmp_path):
    ids = _random_ids(1)
    path = str(tmp_path / 'sub' / 'a.png')
    write_panoptic_png(path, ids)
    read = read_panoptic_png(path)
    assert read.dtype == np.uint32
    np.testing.assert_array_equal(read, ids)


@pytest.mark.skipif(panoptic_io.pyspng is None, reason='pyspng not installed')
def test_decoders_agree(tmp_path):
    ids = _random_ids(2)
    path = str(tmp_path / 'a.png')
    write_panoptic_png(path, ids)
    np.testing.assert_array_equal(
        read_panoptic_png(path, decoder='opencv'), read_panoptic_png(path))


def test_unreadable_png(tmp_path):
    path = tmp_path / 'broken.png'
    path.write_bytes(b'not a png')
    with pytest.raises(PanopticFormatError, match='broken.png'):
        read_panoptic_png(str(path))


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
