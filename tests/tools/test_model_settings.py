"""The model bases carry Seamless Scene Segmentation's Mapillary Vistas
settings (mapillary/seamseg ``scripts/configurations/vistas_r50.ini`` over
``seamseg/config/defaults/panoptic.ini``), Panoptic-DeepLab's semantic decoder
and ABN throughout; pinned on the resolved paper configs, the R50 baseline and
the slim CPU configs (docs/models.md lists each value with its source)."""
import copy
import os.path as osp

import pytest
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmpanoptic_cabb  # noqa: F401
from mmdet.registry import MODELS
from mmpanoptic_cabb.models.layers import ABN
from tests import REPO_ROOT

CONFIGS = osp.join(REPO_ROOT, 'configs')
_HR = 'seamless/seamless_hrnetv2-w48_'
PAPER = [
    _HR + 'crop-1024_8xb4-300e_mapillary-vistas.py',
    _HR + 'crop-512_8xb8-600e_idd.py',
    _HR + 'crop-512_8xb8-150e_cityscapes.py',
    'seamless_r50/seamless_r50_crop-1024_8xb4-300e_mapillary-vistas.py',
]
SLIM = ['synthetic/seamless_hrnet-slim_crop-256_1200i_synthetic.py']


def _model(config: str) -> Config:
    return Config.fromfile(osp.join(CONFIGS, config)).model


@pytest.mark.parametrize('config', PAPER + SLIM)
def test_detection_section_is_seamless(config):
    model = _model(config)
    neck = model.neck
    assert (neck.num_outs, neck.add_extra_convs,
            neck.relu_before_extra_convs) == (6, 'on_input', False)
    assert neck.upsample_cfg == dict(mode='nearest')
    assert neck.norm_cfg.type == 'SyncABN' and neck.act_cfg is None

    rpn = model.rpn_head
    anchors = rpn.anchor_generator
    assert anchors.strides == [4, 8, 16, 32, 64, 128]
    assert anchors.ratios == [0.2, 0.5, 1.0, 2.0, 5.0]
    assert anchors.scales == [2] and anchors.center_offset == 0.5
    assert 'base_sizes' not in anchors and anchors.type == 'AnchorGenerator'
    assert rpn.norm_cfg.type == 'SyncABN'
    assert rpn.loss_bbox.type == 'SmoothL1Loss'
    assert rpn.loss_bbox.beta == pytest.approx(1 / 9)
    assert rpn.loss_cls.use_sigmoid

    roi = model.roi_head
    assert roi.type == 'StandardRoIHead'
    for extractor, size, ratio in ((roi.bbox_roi_extractor, 7, 2),
                                   (roi.mask_roi_extractor, 14, 1)):
        assert extractor.featmap_strides == [4, 8, 16, 32]
        assert extractor.finest_scale == 56  # canonical 224 at level 2
        assert (extractor.roi_layer.output_size,
                extractor.roi_layer.sampling_ratio,
                extractor.roi_layer.aligned) == (size, ratio, False)
    box = roi.bbox_head
    assert box.bbox_coder.target_stds == [0.1, 0.1, 0.2, 0.2]
    assert box.loss_bbox.type == 'SmoothL1Loss' and box.loss_bbox.beta == 1.0
    assert box.fc_norm_cfg.type == 'SyncABN'
    assert not box.reg_class_agnostic
    assert roi.mask_head.type == 'ABNFCNMaskHead'

    train, test = model.train_cfg, model.test_cfg
    assert (train.rpn.assigner.pos_iou_thr, train.rpn.assigner.neg_iou_thr,
            train.rpn.assigner.ignore_iof_thr) == (0.7, 0.3, 0.7)
    assert train.rpn.sampler.pos_fraction == 0.5
    assert train.rpn.allowed_border == 0
    assert (train.rcnn.assigner.pos_iou_thr, train.rcnn.assigner.neg_iou_thr,
            train.rcnn.assigner.match_low_quality) == (0.5, 0.5, False)
    assert train.rcnn.sampler.pos_fraction == 0.25
    assert train.rcnn.sampler.add_gt_as_proposals
    for stage in (train.rpn, train.rcnn):
        assert stage.sampler.type == 'TruncationAwareRandomSampler'
    for proposals in (train.rpn_proposal, test.rpn):
        assert proposals.nms.iou_threshold == 0.7
        assert proposals.nms.class_agnostic  # one NMS over all levels
        assert proposals.min_bbox_size == -1  # seamseg min_size 0: none
    assert (test.rcnn.nms.iou_threshold, test.rcnn.score_thr,
            test.rcnn.max_per_img) == (0.5, 0.05, 256)
    assert (test.panoptic.score_thr, test.panoptic.mask_overlap) == (0.5, 0.5)
    if config in PAPER:
        assert train.rpn.sampler.num == 256 and train.rcnn.sampler.num == 512
        assert (train.rpn_proposal.nms_pre,
                train.rpn_proposal.max_per_img) == (12000, 2000)
        assert (test.rpn.nms_pre, test.rpn.max_per_img) == (6000, 1000)
        assert test.panoptic.stuff_area_limit == 4096
    else:  # CPU budget of the slim configs
        assert train.rpn.sampler.num == train.rcnn.sampler.num == 128
        assert (train.rpn_proposal.nms_pre,
                train.rpn_proposal.max_per_img) == (1000, 300)


@pytest.mark.parametrize('config', PAPER + SLIM)
def test_semantic_head_and_ohem(config):
    model = _model(config)
    head = model.semantic_head
    assert head.loss_seg.type == 'OHEMCrossEntropyLoss'
    assert head.loss_seg.ratio == 0.25 and head.loss_seg.ignore_index == 255
    if 'r50' in config:
        assert head.type == 'MiniDLSemanticHead'
        assert model.semantic_head_in == 'neck'
        assert head.pooling_size == (64, 64)
        return
    assert head.type == 'PanopticDeepLabSemanticHead'
    assert model.semantic_head_in == 'body'
    crop = 1024 if 'crop-1024' in config else 512 if 'crop-512' in config \
        else 256
    # crop-window image pooling and rates scaled to the crop's 1/32 cells
    assert head.pooling_size == (crop // 32, crop // 32)
    expected = {1024: (3, 6, 9), 512: (2, 3, 5), 256: (1, 2, 3)}[crop]
    assert tuple(head.dilations) == expected
    if config in PAPER:
        assert head.project_channels == (32, 64, 128)
        assert (head.decoder_channels, head.aspp_channels,
                head.head_channels) == (256, 256, 256)


def _activation_layers(module: nn.Module):
    return [m for m in module.modules() if isinstance(
        m, (nn.ReLU, nn.LeakyReLU, nn.ReLU6, nn.ELU))]


@pytest.mark.parametrize('config', [PAPER[0], SLIM[0]])
def test_abn_sits_everywhere_outside_the_body(config):
    init_default_scope('mmdet')
    cfg = copy.deepcopy(_model(config))
    cfg.backbone.init_cfg = None
    model = MODELS.build(cfg)
    heads = {
        'neck': model.neck,
        'rpn_head': model.rpn_head,
        'bbox_head': model.roi_head.bbox_head,
        'mask_head': model.roi_head.mask_head,
        'semantic_head': model.semantic_head,
    }
    for name, head in heads.items():
        abns = [m for m in head.modules() if isinstance(m, ABN)]
        assert abns, name
        # every normalised layer activates inside its ABN: LeakyReLU(0.01)
        for abn in abns:
            assert abn.activation == 'leaky_relu', name
            assert abn.activation_param == 0.01, name
        # no plain ReLU after an ABN anywhere in these heads (the ASPP image
        # pooling branch has no norm; it takes its own LeakyReLU)
        assert not [m for m in _activation_layers(head)
                    if isinstance(m, nn.ReLU)], name
        # no plain BatchNorm either
        assert not [m for m in head.modules()
                    if type(m) in (nn.BatchNorm1d, nn.BatchNorm2d)], name
    # the body: (synchronized) BN without activation, its own ReLUs
    body_abns = [m for m in model.backbone.modules() if isinstance(m, ABN)]
    assert body_abns and all(m.activation == 'identity' for m in body_abns)
