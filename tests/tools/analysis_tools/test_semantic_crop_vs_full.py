"""Pure parts of tools/analysis_tools/semantic_crop_vs_full.py."""
import numpy as np
import pytest
from mmengine.config import Config

from tests import REPO_ROOT, load_tool

tool = load_tool('analysis_tools', 'semantic_crop_vs_full')


def test_confusion_and_summary_against_hand_counts():
    gt = np.array([[0, 0, 1], [1, 2, 255]])
    pred = np.array([[0, 1, 1], [1, 2, 0]])
    matrix = tool.confusion(pred, gt, 3)
    # rows: ground truth; the void pixel is skipped
    np.testing.assert_array_equal(matrix,
                                  [[1, 1, 0], [0, 2, 0], [0, 0, 1]])
    stats = tool.summarise(matrix)
    assert stats['pixel_acc'] == pytest.approx(100 * 4 / 5)
    # IoU: class 0 1/2, class 1 2/3, class 2 1
    assert stats['miou'] == pytest.approx(100 * (0.5 + 2 / 3 + 1) / 3)


def test_absent_classes_do_not_count_in_miou():
    matrix = np.zeros((4, 4), dtype=np.int64)
    matrix[1, 1] = 10
    assert tool.summarise(matrix)['miou'] == pytest.approx(100.0)


def test_training_crop_is_read_from_the_config():
    cfg = Config.fromfile(
        f'{REPO_ROOT}/configs/synthetic/'
        'seamless_hrnet-slim_crop-256_1200i_synthetic.py')
    assert tool.training_crop(cfg) == 256
    full = Config.fromfile(f'{REPO_ROOT}/configs/synthetic/'
                           'seamless_hrnet-slim_full_1200i_synthetic.py')
    with pytest.raises(ValueError, match='TruncationAwareRandomCrop'):
        tool.training_crop(full)
