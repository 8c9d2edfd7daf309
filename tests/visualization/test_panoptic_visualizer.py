"""PanopticVisualizer: predictions, all-void maps, training crops with CABB regions."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.structures import InstanceData, PixelData

from mmdet.registry import VISUALIZERS
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmpanoptic_cabb.datasets.categories import synthetic_metainfo
from mmpanoptic_cabb.visualization import PanopticVisualizer
from mmpanoptic_cabb.visualization.panoptic_drawing import INSTANCE_OFFSET
from mmpanoptic_cabb.visualization.panoptic_visualizer import (MARGIN_COLOR,
                                                               TRUNCATED_COLOR)
from tests import REPO_ROOT

H, W, MARGIN = 48, 64, 16
_COUNT = [0]


@pytest.fixture
def visualizer():
    _COUNT[0] += 1
    vis = VISUALIZERS.build(
        dict(type='PanopticVisualizer', name=f'test_vis_{_COUNT[0]}',
             margin=MARGIN))
    vis.dataset_meta = synthetic_metainfo()
    return vis


def _image():
    return np.full((H, W, 3), 90, dtype=np.uint8)


def test_registered_and_used_by_the_configs(visualizer):
    assert isinstance(visualizer, PanopticVisualizer)
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'synthetic',
                 'seamless_hrnet-slim_crop-256_1200i_synthetic.py'))
    assert cfg.visualizer.type == 'PanopticVisualizer'


def test_all_void_prediction_draws_the_image(visualizer, tmp_path):
    sample = DetDataSample()
    sample.pred_panoptic_seg = PixelData(
        sem_seg=torch.full((1, H, W), 7, dtype=torch.int32))
    out = str(tmp_path / 'void.png')
    visualizer.add_datasample('void', _image(), sample, draw_gt=False,
                              out_file=out)
    assert np.array_equal(visualizer.get_image(), _image())
    assert osp.isfile(out)


def test_prediction_colours_segments_and_outlines_things(visualizer):
    h, w = 96, 128
    pan = torch.full((1, h, w), 4, dtype=torch.int32)  # road (label 4)
    pan[0, 10:60, 10:80] = 0 + INSTANCE_OFFSET  # a car
    sample = DetDataSample()
    sample.pred_panoptic_seg = PixelData(sem_seg=pan)
    image = np.full((h, w, 3), 90, dtype=np.uint8)
    visualizer.add_datasample('pred', image, sample, draw_gt=False)
    drawn = visualizer.get_image()
    assert drawn.shape == (h, w, 3)
    road = np.array(synthetic_metainfo()['palette'][4])
    a = visualizer.alpha
    expected = ((1 - a) * 90 + a * road + 0.5).astype(np.uint8)
    assert np.abs(drawn[h - 2, 2].astype(int) - expected).max() <= 1
    assert drawn[10, 45].tolist() == [255, 255, 255]  # car's top outline
    car = np.array(synthetic_metainfo()['palette'][0])
    inside = drawn[15, 20].astype(int)  # car colour, shifted per instance
    assert np.abs(inside - ((1 - a) * 90 + a * car)).max() <= a * 60 + 1
    assert inside.tolist() != drawn[h - 2, 2].tolist()


def _training_sample():
    sample = DetDataSample(metainfo=dict(isus_level=2, isus_sigma=1.5,
                                         sampled_gt_instance=1))
    masks = np.zeros((2, H, W), dtype=np.uint8)
    masks[0, 10:30, 0:20] = 1  # cut by the crop's left edge
    masks[1, 5:15, 40:50] = 1
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor([[0., 10., 20., 30.], [40., 5., 50., 15.]]),
        labels=torch.tensor([0, 1]),
        masks=BitmapMasks(masks, H, W),
        truncated=torch.tensor([[True, False, False, False],
                                [False] * 4]))
    sample.gt_sem_seg = PixelData(
        sem_seg=torch.full((1, H, W), 4, dtype=torch.uint8))
    return sample


def test_training_sample_draws_the_cabb_region_in_the_margin(visualizer):
    visualizer.add_datasample('crop', _image(), _training_sample(),
                              draw_pred=False)
    drawn = visualizer.get_image().astype(int)
    assert drawn.shape == (H + 2 * MARGIN, W + 2 * MARGIN, 3)
    margin = np.array(MARGIN_COLOR)
    # left of the truncated box (rows 10..30 of the crop), in the margin:
    # the hatched region, tinted towards the truncation colour
    band = drawn[MARGIN + 20:MARGIN + 28, 2:MARGIN - 8]
    red = np.array(TRUNCATED_COLOR)
    assert np.abs(band - margin).sum(axis=-1).mean() > 10
    assert (np.abs(band - red).sum(-1) < np.abs(margin - red).sum()).all()
    # the margin right of the crop has no region: canvas colour
    right = drawn[MARGIN + 20:MARGIN + 28, MARGIN + W + 4:]
    assert (right == margin).all()


def test_training_sample_without_truncation_has_no_region(visualizer):
    sample = _training_sample()
    sample.gt_instances.truncated[:] = False
    visualizer.add_datasample('crop', _image(), sample, draw_pred=False)
    drawn = visualizer.get_image().astype(int)
    band = drawn[MARGIN + 20:MARGIN + 28, 2:MARGIN - 8]
    assert (band == np.array(MARGIN_COLOR)).all()


def test_ground_truth_and_prediction_side_by_side(visualizer):
    sample = _training_sample()
    sample.pred_panoptic_seg = PixelData(
        sem_seg=torch.full((1, H, W), 4, dtype=torch.int32))
    visualizer.add_datasample('both', _image(), sample)
    assert visualizer.get_image().shape == (H + 2 * MARGIN,
                                            W + 2 * MARGIN + W, 3)
