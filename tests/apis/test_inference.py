"""init_panoptic_model / inference_panoptic on the slim synthetic model."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.structures import DetDataSample
from mmpanoptic_cabb.apis import inference_panoptic, init_panoptic_model
from mmpanoptic_cabb.models.detectors import SeamlessPanopticSegmentor
from tests import REPO_ROOT

CONFIG = osp.join(REPO_ROOT, 'configs', 'synthetic',
                  'seamless_hrnet-slim_crop-256_1200i_synthetic.py')
H, W = 64, 128
#: Test-time rescale (shortest side). The config's s0 = 512 would feed the
#: CPU forward 16x the pixels; 128 still upsamples the 64 px image by 2, so
#: the predictions are mapped back to the original size.
TEST_SHORT_SIDE = 128


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    model = init_panoptic_model(
        CONFIG,
        checkpoint=None,
        device='cpu',
        cfg_options={
            # few detections (mask pasting dominates the CPU time), all of
            # them fused, so that the panoptic map holds thing segments
            'model.test_cfg.rcnn.max_per_img': 8,
            'model.test_cfg.panoptic.score_thr': 0.0,
        })
    resizes = [
        step for step in model.cfg.test_dataloader.dataset.pipeline
        if step['type'] == 'Resize'
    ]
    assert len(resizes) == 1
    resizes[0]['scale'] = (TEST_SHORT_SIDE * 8, TEST_SHORT_SIDE)
    return model


@pytest.fixture(scope='module')
def image():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    img[H // 2:] = (128, 64, 128)  # a flat "road" half
    return img


def _check_sample(model, sample: DetDataSample) -> None:
    num_things = model.panoptic_fusion_head.num_things_classes
    num_classes = model.panoptic_fusion_head.num_classes
    assert sample.ori_shape == (H, W)
    assert sample.img_shape == (TEST_SHORT_SIDE, TEST_SHORT_SIDE * W // H)

    panoptic = sample.pred_panoptic_seg.sem_seg
    assert panoptic.shape == (1, H, W)
    assert panoptic.dtype == torch.int32
    labels = panoptic % INSTANCE_OFFSET
    instance_ids = panoptic // INSTANCE_OFFSET
    # labels 0..T+S-1, void = T+S; things carry an instance id from 1,
    # stuff and void none
    assert int(labels.min()) >= 0 and int(labels.max()) <= num_classes
    is_thing = labels < num_things
    assert bool((instance_ids[is_thing] >= 1).all())
    assert bool((instance_ids[~is_thing] == 0).all())

    instances = sample.pred_instances
    assert {'bboxes', 'labels', 'scores', 'masks'} <= set(instances.keys())
    n = len(instances)
    assert instances.bboxes.shape == (n, 4)
    assert instances.labels.shape == instances.scores.shape == (n, )
    # COCO RLEs at the original size (memory-bounded prediction)
    assert isinstance(instances.masks, list) and len(instances.masks) == n
    assert all(tuple(rle['size']) == (H, W) for rle in instances.masks)
    if n:
        assert int(instances.labels.max()) < num_things
        assert bool(((instances.scores >= 0) & (instances.scores <= 1)).all())
        boxes = instances.bboxes
        assert bool((boxes[:, 2:] >= boxes[:, :2]).all())
        assert bool((boxes >= 0).all())
        assert bool((boxes[:, 0::2] <= W).all() & (boxes[:, 1::2] <= H).all())
    # every thing segment of the panoptic map comes from a detection
    assert set(labels[is_thing].unique().tolist()) <= set(
        instances.labels.tolist())
    assert len(instance_ids[is_thing].unique()) <= n

    semantic = sample.pred_sem_seg.sem_seg
    assert semantic.shape == (1, H, W)
    assert int(semantic.min()) >= 0 and int(semantic.max()) < num_classes


def test_init_panoptic_model_builds_eval_model(model):
    assert isinstance(model, SeamlessPanopticSegmentor)
    assert not model.training
    assert model.cfg.model.type == 'SeamlessPanopticSegmentor'
    fusion = model.panoptic_fusion_head
    assert (fusion.num_things_classes, fusion.num_stuff_classes) == (3, 4)
    assert next(model.parameters()).device.type == 'cpu'


def test_inference_on_array(model, image):
    sample = inference_panoptic(model, image)
    assert isinstance(sample, DetDataSample)
    _check_sample(model, sample)
    # with every detection fused, thing segments do reach the panoptic map
    panoptic = sample.pred_panoptic_seg.sem_seg
    num_things = model.panoptic_fusion_head.num_things_classes
    assert bool(((panoptic % INSTANCE_OFFSET) < num_things).any())
    # the model's own test pipeline still loads files
    loading = model.cfg.test_dataloader.dataset.pipeline[0]
    assert loading['type'] == 'LoadImageFromFile'


def test_inference_on_files_matches_array(model, image, tmp_path):
    png = str(tmp_path / 'image.png')
    jpg = str(tmp_path / 'image.jpg')
    assert cv2.imwrite(png, image) and cv2.imwrite(jpg, image)
    samples = inference_panoptic(model, [png, jpg])
    assert isinstance(samples, list) and len(samples) == 2
    for sample, path in zip(samples, (png, jpg)):
        assert sample.img_path == path
        _check_sample(model, sample)
    # a lossless file is read as the same BGR array
    from_array = inference_panoptic(model, image)
    assert torch.equal(samples[0].pred_panoptic_seg.sem_seg,
                       from_array.pred_panoptic_seg.sem_seg)
