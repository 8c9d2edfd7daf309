"""tools/analysis_tools/browse_dataset.py on the tiny dataset (CUS + ISUS + crop)."""
import os.path as osp

import cv2
import numpy as np
import pytest

from mmpanoptic_cabb.utils.errors import ToolInputError
from mmpanoptic_cabb.visualization.panoptic_visualizer import (MARGIN_COLOR,
                                                               TRUNCATED_COLOR)
from tests import REPO_ROOT, load_tool
from tests.tools.tiny_config import make_tiny_cfg

CLI = load_tool('analysis_tools', 'browse_dataset')
ISUS_CONFIG = osp.join(
    REPO_ROOT, 'configs', 'synthetic',
    'seamless_hrnet-slim_crop-256-cabb-isus_1200i_synthetic.py')
CROP, MARGIN = 96, 40


def test_writes_one_drawing_per_sample(tiny_synthetic_root, tmp_path):
    cfg = make_tiny_cfg(tiny_synthetic_root, str(tmp_path / 'work'),
                        config=ISUS_CONFIG, crop=CROP, with_val=False)
    cfg_path = str(tmp_path / 'tiny.py')
    cfg.dump(cfg_path)
    out = str(tmp_path / 'browse')
    written = CLI.main([cfg_path, '--output-dir', out, '--num', '6',
                        '--not-show', '--cfg-options',
                        f'visualizer.margin={MARGIN}'])
    assert len(written) == 6
    cut = 0
    for path in written:
        assert osp.basename(path)[:4].isdigit()
        drawn = cv2.imread(path)[..., ::-1].astype(int)
        assert drawn.shape == (CROP + 2 * MARGIN, CROP + 2 * MARGIN, 3)
        # the margin is canvas colour except where CABB regions, arrows and
        # the legend are drawn; regions are tinted towards the truncation
        # colour
        margin = np.concatenate([drawn[MARGIN + 2:-MARGIN - 2, :MARGIN - 2],
                                 drawn[MARGIN + 2:-MARGIN - 2,
                                       -MARGIN + 2:]]).reshape(-1, 3)
        tinted = (margin != np.array(MARGIN_COLOR)).any(axis=1)
        if tinted.any():
            cut += 1
            red = np.array(TRUNCATED_COLOR)
            closer = (np.abs(margin[tinted] - red).sum(-1) <
                      np.abs(np.array(MARGIN_COLOR) - red).sum())
            assert closer.mean() > 0.9
    # 96 px crops of 128 px high images cut some instance in most draws
    assert cut >= 1


def test_missing_config_is_named(tmp_path):
    with pytest.raises(ToolInputError, match='nope.py'):
        CLI.main([str(tmp_path / 'nope.py'), '--not-show'])
