"""The paper's network (slim HRNet + FPN + DeepLabV3+) and the Seamless
baseline, on CPU."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData, PixelData

import mmpanoptic_cabb  # noqa: F401  (registers the modules)
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmpanoptic_cabb.models.detectors import SeamlessPanopticSegmentor
from mmpanoptic_cabb.models.layers import ABN
from mmpanoptic_cabb.models.seg_heads import (MiniDLSemanticHead,
                                              PanopticDeepLabSemanticHead,
                                              SeamlessFusionHead)
from tests import REPO_ROOT

MODEL_CONFIGS = osp.join(REPO_ROOT, 'configs', '_base_', 'models')
SLIM = osp.join(MODEL_CONFIGS, 'seamless_hrnet-slim_fpn_dlv3plus.py')
PAPER = osp.join(MODEL_CONFIGS, 'seamless_hrnetv2-w48_fpn_dlv3plus.py')
BASELINE = osp.join(MODEL_CONFIGS, 'seamless_r50_fpn_minidl.py')

LOSS_KEYS = {
    'loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'acc', 'loss_bbox',
    'loss_mask', 'loss_seg'
}


def _sample(rng: np.random.RandomState,
            img_shape,
            num_things: int,
            num_stuff: int,
            ori_shape=None) -> dict:
    """An image with rectangular thing instances on stuff bands, 255 holes."""
    h, w = img_shape
    sem = np.empty((h, w), dtype=np.uint8)
    band = h // num_stuff + 1
    for k in range(num_stuff):
        sem[k * band:(k + 1) * band] = num_things + k
    masks, boxes, labels = [], [], []
    for _ in range(rng.randint(2, 5)):
        x0, y0 = rng.randint(0, w - 24), rng.randint(0, h - 24)
        x1, y1 = x0 + rng.randint(12, 24), y0 + rng.randint(12, 24)
        label = rng.randint(num_things)
        mask = np.zeros((h, w), dtype=np.uint8)
        mask[y0:y1, x0:x1] = 1
        sem[y0:y1, x0:x1] = label
        masks.append(mask)
        boxes.append([x0, y0, x1, y1])
        labels.append(label)
    sem[rng.rand(h, w) < 0.02] = 255
    ori_shape = ori_shape or (h, w)
    sample = DetDataSample(
        metainfo=dict(
            img_id=0,
            img_shape=(h, w),
            ori_shape=ori_shape,
            scale_factor=(w / ori_shape[1], h / ori_shape[0]),
            flip=False))
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor(boxes, dtype=torch.float32),
        labels=torch.tensor(labels),
        masks=BitmapMasks(np.stack(masks), h, w))
    sample.gt_sem_seg = PixelData(sem_seg=torch.from_numpy(sem)[None])
    image = torch.from_numpy(rng.randint(0, 255, (3, h, w), dtype=np.uint8))
    return dict(inputs=image, data_sample=sample)


def _batch(model, shapes, num_things, num_stuff, training, ori_shapes=None):
    rng = np.random.RandomState(0)
    ori_shapes = ori_shapes or [None] * len(shapes)
    samples = [
        _sample(rng, shape, num_things, num_stuff, ori)
        for shape, ori in zip(shapes, ori_shapes)
    ]
    data = dict(
        inputs=[s['inputs'] for s in samples],
        data_samples=[s['data_sample'] for s in samples])
    return model.data_preprocessor(data, training)


def _build(config: str, **overrides) -> SeamlessPanopticSegmentor:
    init_default_scope('mmdet')
    cfg = Config.fromfile(config)
    cfg.merge_from_dict({f'model.{k}': v for k, v in overrides.items()})
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


@pytest.fixture(scope='module')
def slim_model():
    return _build(SLIM)


def test_slim_model_structure(slim_model):
    model = slim_model
    assert isinstance(model, SeamlessPanopticSegmentor)
    assert model.semantic_head_in == 'body'
    assert isinstance(model.semantic_head, PanopticDeepLabSemanticHead)
    assert isinstance(model.panoptic_fusion_head, SeamlessFusionHead)
    assert model.semantic_head.num_classes == 3 + 4
    # ABN after the body: FPN, mask head, DeepLabV3+ (with LeakyReLU)
    for part in (model.neck, model.roi_head.mask_head, model.semantic_head):
        norms = [m for m in part.modules() if isinstance(m, ABN)]
        assert norms and all(n.activation == 'leaky_relu' for n in norms)
    # the body's norms are ABNs without activation (HRNet has its own ReLUs)
    body_norms = [m for m in model.backbone.modules() if isinstance(m, ABN)]
    assert body_norms and all(n.activation == 'identity' for n in body_norms)


def test_slim_model_loss_and_backward(slim_model):
    model = slim_model.train()
    data = _batch(model, [(96, 96), (96, 96)], 3, 4, training=True)
    losses = model(**data, mode='loss')
    assert LOSS_KEYS <= set(losses)
    for key, value in losses.items():
        for v in (value if isinstance(value, list) else [value]):
            assert torch.isfinite(v).all(), key
    total, _ = model.parse_losses(losses)
    model.zero_grad()
    total.backward()
    for part in (model.backbone, model.neck, model.rpn_head,
                 model.roi_head.bbox_head, model.roi_head.mask_head,
                 model.semantic_head):
        grads = [p.grad for p in part.parameters() if p.requires_grad]
        assert any(g is not None and g.abs().sum() > 0 for g in grads), part


def _mask_shapes(masks) -> list:
    """(H, W) of each predicted mask: a bool stack or COCO RLEs."""
    if isinstance(masks, list):
        return [tuple(rle['size']) for rle in masks]
    assert masks.dtype == torch.bool
    return [tuple(m.shape) for m in masks]


@pytest.fixture(params=[True, False], ids=['bounded', 'full-stack'])
def predict_mode(request, slim_model):
    """The slim model predicting with or without bounded memory."""
    head = slim_model.panoptic_fusion_head
    head.bounded_memory = request.param
    yield request.param
    head.bounded_memory = True


def test_slim_model_predict(slim_model, predict_mode):
    model = slim_model.eval()
    # image 1 is 88x72 (padded to 96x96) and was resized from 176x144
    data = _batch(
        model, [(96, 96), (88, 72)],
        3,
        4,
        training=False,
        ori_shapes=[None, (176, 144)])
    with torch.no_grad():
        results = model(**data, mode='predict')
    assert len(results) == 2
    for result, shape in zip(results, [(96, 96), (176, 144)]):
        pan = result.pred_panoptic_seg.sem_seg
        assert pan.shape == (1, *shape) and pan.dtype == torch.int32
        labels = pan % 1000
        assert ((labels <= 7) & (labels >= 0)).all()
        sem = result.pred_sem_seg.sem_seg
        assert sem.shape == (1, *shape)
        assert sem.min() >= 0 and sem.max() < 7
        inst = result.pred_instances
        assert {'bboxes', 'labels', 'scores', 'masks'} <= set(inst.keys())
        assert isinstance(inst.masks, list) is predict_mode
        assert _mask_shapes(inst.masks) == [shape] * len(inst)
        assert (inst.labels < 3).all()


def test_slim_model_predict_without_rescale(slim_model, predict_mode):
    model = slim_model.eval()
    data = _batch(
        model, [(88, 72)], 3, 4, training=False, ori_shapes=[(176, 144)])
    with torch.no_grad():
        result = model.predict(
            data['inputs'], data['data_samples'], rescale=False)[0]
    assert result.pred_panoptic_seg.sem_seg.shape == (1, 88, 72)
    inst = result.pred_instances
    assert _mask_shapes(inst.masks) == [(88, 72)] * len(inst)
    assert result.pred_sem_seg.sem_seg.shape == (1, 88, 72)


def test_slim_model_tensor_mode(slim_model):
    model = slim_model.eval()
    data = _batch(model, [(64, 64), (64, 64)], 3, 4, training=False)
    with torch.no_grad():
        rpn_outs, roi_outs, seg_logits = model(**data, mode='tensor')
    cls_scores, bbox_preds = rpn_outs
    assert len(cls_scores) == len(bbox_preds) == 6  # strides 4-128
    assert cls_scores[0].shape[-2:] == (16, 16)
    assert isinstance(roi_outs, tuple) and len(roi_outs) > 0
    assert seg_logits.shape == (2, 7, 16, 16)


def test_paper_config_resolves():
    cfg = Config.fromfile(PAPER).model
    assert cfg.type == 'SeamlessPanopticSegmentor'
    assert cfg.backbone.type == 'HRNet'
    assert 'depth' not in cfg.backbone
    assert cfg.backbone.extra.stage4.num_channels == (48, 96, 192, 384)
    assert cfg.backbone.init_cfg.checkpoint == 'open-mmlab://msra/hrnetv2_w48'
    assert cfg.backbone.norm_cfg == dict(
        type='SyncABN', activation='identity', requires_grad=True)
    assert cfg.neck.in_channels == [48, 96, 192, 384]
    assert cfg.neck.norm_cfg.type == 'SyncABN' and cfg.neck.act_cfg is None
    head = cfg.semantic_head
    assert head.type == 'PanopticDeepLabSemanticHead'
    assert head.in_channels == [48, 96, 192, 384]
    # class counts stated once, on the model; the built heads carry them
    assert (cfg.num_things_classes, cfg.num_stuff_classes) == (37, 28)
    assert cfg.roi_head.bbox_head.num_classes is None
    assert 'num_stuff_classes' not in cfg.semantic_head


def test_slim_config_inherits_paper_network():
    cfg = Config.fromfile(SLIM).model
    assert cfg.backbone.init_cfg is None
    assert cfg.backbone.extra.stage4.num_modules == 1
    assert cfg.roi_head.bbox_roi_extractor.roi_layer.sampling_ratio == 2
    assert cfg.roi_head.mask_roi_extractor.roi_layer.sampling_ratio == 1
    assert cfg.train_cfg.rcnn.sampler.num == 128
    assert cfg.semantic_head.type == 'PanopticDeepLabSemanticHead'
    assert cfg.semantic_head.in_channels == [8, 16, 32, 64]


def test_seamless_baseline_loss_at_tiny_width():
    widths = [32, 64, 128, 256]  # ResNet-50 with base_channels=8
    model = _build(
        BASELINE, **{
            'backbone.base_channels': 8,
            'backbone.init_cfg': None,
            'neck.in_channels': widths,
            'neck.out_channels': 16,
            'rpn_head.in_channels': 16,
            'rpn_head.feat_channels': 16,
            'roi_head.bbox_roi_extractor.out_channels': 16,
            'roi_head.bbox_roi_extractor.roi_layer.sampling_ratio': 2,
            'roi_head.bbox_head.in_channels': 16,
            'roi_head.bbox_head.fc_out_channels': 32,
            'roi_head.mask_roi_extractor.out_channels': 16,
            'roi_head.mask_roi_extractor.roi_layer.sampling_ratio': 2,
            'roi_head.mask_head.in_channels': 16,
            'roi_head.mask_head.conv_out_channels': 16,
            'roi_head.mask_head.num_convs': 1,
            'semantic_head.in_channels': 16,
            'semantic_head.channels': 8,
            'train_cfg.rcnn.sampler.num': 64,
        })
    assert model.semantic_head_in == 'neck'
    assert isinstance(model.semantic_head, MiniDLSemanticHead)
    model.train()
    data = _batch(model, [(64, 64), (64, 64)], 37, 28, training=True)
    losses = model(**data, mode='loss')
    assert LOSS_KEYS <= set(losses)
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total)
    total.backward()
    assert model.semantic_head.conv_logits.weight.grad is not None
    with torch.no_grad():
        _, _, seg_logits = model.eval()(**data, mode='tensor')
    assert seg_logits.shape == (2, 65, 16, 16)


def test_class_counts_are_stated_once_on_the_model():
    from mmpanoptic_cabb.models.detectors.seamless_panoptic_segmentor import \
        with_class_counts
    roi = dict(bbox_head=dict(num_classes=None), mask_head=dict())
    sem, fusion = dict(type='X'), dict(num_things_classes=5)
    roi2, sem2, fusion2 = with_class_counts(roi, sem, fusion, 5, 9)
    assert roi2['bbox_head']['num_classes'] == 5
    assert roi2['mask_head']['num_classes'] == 5
    assert (sem2['num_things_classes'], sem2['num_stuff_classes']) == (5, 9)
    assert (fusion2['num_things_classes'],
            fusion2['num_stuff_classes']) == (5, 9)
    # inputs untouched; None keeps the heads' own values
    assert roi['bbox_head']['num_classes'] is None and 'num_classes' not in \
        roi['mask_head']
    assert with_class_counts(roi, sem, fusion, None, None) == (roi, sem,
                                                               fusion)
    with pytest.raises(ValueError, match=r'roi_head\.bbox_head\.num_classes=3'):
        with_class_counts(dict(bbox_head=dict(num_classes=3)), sem, fusion, 5,
                          9)
    with pytest.raises(ValueError, match='semantic_head.num_stuff_classes=2'):
        with_class_counts(roi, dict(num_stuff_classes=2), fusion, 5, 9)
