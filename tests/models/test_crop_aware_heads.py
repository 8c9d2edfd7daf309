"""Tests of the crop-aware RPN / RoI heads that route truncation flags."""
import copy

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

import mmpanoptic_cabb  # noqa: F401  (registers the modules)
from mmpanoptic_cabb.models.losses import CABBLoss

CHANNELS = 8
IMG_SHAPE = (64, 64)
STRIDES = [4, 8]
BETA = 1. / 9


def _rpn_cfg(head_type, loss_type, stds=(1., 1., 1., 1.)):
    return dict(
        type=head_type,
        in_channels=CHANNELS,
        feat_channels=CHANNELS,
        anchor_generator=dict(
            type='AnchorGenerator',
            scales=[4],
            ratios=[0.5, 1.0, 2.0],
            strides=STRIDES),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[0.] * 4,
            target_stds=list(stds)),
        loss_cls=dict(
            type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
        loss_bbox=dict(type=loss_type, beta=BETA, loss_weight=1.0),
        train_cfg=ConfigDict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.7,
                neg_iou_thr=0.3,
                min_pos_iou=0.3,
                match_low_quality=True,
                ignore_iof_thr=-1),
            sampler=dict(
                type='RandomSampler',
                num=64,
                pos_fraction=0.5,
                neg_pos_ub=-1,
                add_gt_as_proposals=False),
            allowed_border=-1,
            pos_weight=-1,
            debug=False))


def _roi_cfg(roi_type, bbox_head_type, loss_type):
    return dict(
        type=roi_type,
        bbox_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=0),
            out_channels=CHANNELS,
            featmap_strides=STRIDES),
        bbox_head=dict(
            type=bbox_head_type,
            in_channels=CHANNELS,
            fc_out_channels=16,
            roi_feat_size=7,
            num_classes=3,
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[0.] * 4,
                target_stds=[0.1, 0.1, 0.2, 0.2]),
            reg_class_agnostic=False,
            loss_cls=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
            loss_bbox=dict(type=loss_type, beta=BETA, loss_weight=1.0)),
        train_cfg=ConfigDict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.5,
                neg_iou_thr=0.5,
                min_pos_iou=0.5,
                match_low_quality=False,
                ignore_iof_thr=-1),
            sampler=dict(
                type='RandomSampler',
                num=32,
                pos_fraction=0.25,
                neg_pos_ub=-1,
                add_gt_as_proposals=True),
            pos_weight=-1,
            debug=False))


def _build(cfg, seed=0):
    torch.manual_seed(seed)
    return MODELS.build(cfg)


def _gt_instances(truncated=None):
    gt = InstanceData()
    gt.bboxes = torch.tensor([[4., 6., 30., 40.], [34., 20., 60., 44.]])
    gt.labels = torch.tensor([1, 2])
    if truncated is not None:
        gt.truncated = torch.tensor(truncated, dtype=torch.bool)
    return gt


def _img_metas():
    return [dict(img_shape=IMG_SHAPE, pad_shape=IMG_SHAPE)]


def _feats(seed=1):
    gen = torch.Generator().manual_seed(seed)
    return tuple(
        torch.randn(
            1, CHANNELS, IMG_SHAPE[0] // s, IMG_SHAPE[1] // s, generator=gen)
        for s in STRIDES)


def _total(losses):
    total = 0
    for value in losses.values():
        if isinstance(value, (list, tuple)):
            total = total + sum(value)
        elif value.requires_grad:
            total = total + value
    return total


def _rpn_losses(head, gt_instances, sampler_seed=5):
    feats = _feats()
    cls_scores, bbox_preds = head(feats)
    torch.manual_seed(sampler_seed)
    losses = head.loss_by_feat(cls_scores, bbox_preds, [gt_instances],
                               _img_metas())
    head.zero_grad()
    _total(losses).backward()
    grads = {n: p.grad.clone() for n, p in head.named_parameters()}
    return losses, grads


def _assert_same(losses_a, grads_a, losses_b, grads_b):
    assert losses_a.keys() == losses_b.keys()
    for key in losses_a:
        a, b = losses_a[key], losses_b[key]
        if isinstance(a, (list, tuple)):
            assert all(torch.equal(x, y) for x, y in zip(a, b)), key
        else:
            assert torch.equal(a, b), key
    assert grads_a.keys() == grads_b.keys()
    for name in grads_a:
        assert torch.equal(grads_a[name], grads_b[name]), name


def _set_wide_regression(layer, num_outputs):
    """Predict deltas (0, 0, 2, 2) for every box: 7.4x wider and taller."""
    with torch.no_grad():
        layer.weight.zero_()
        layer.bias.copy_(torch.tensor([0., 0., 2., 2.]).repeat(num_outputs))


@pytest.mark.parametrize(
    'truncated', [None, [[False] * 4, [False] * 4]], ids=['absent', 'false'])
def test_rpn_without_truncation_equals_plain_head(truncated):
    plain = _build(_rpn_cfg('RPNHead', 'SmoothL1Loss'))
    ours = _build(_rpn_cfg('CropAwareRPNHead', 'CABBLoss'))
    assert isinstance(ours.loss_bbox, CABBLoss)
    _assert_same(*_rpn_losses(plain, _gt_instances()),
                 *_rpn_losses(ours, _gt_instances(truncated)))


def test_rpn_with_smooth_l1_equals_plain_head():
    plain = _build(_rpn_cfg('RPNHead', 'SmoothL1Loss'))
    ours = _build(_rpn_cfg('CropAwareRPNHead', 'SmoothL1Loss'))
    truncated = [[True, False, True, False], [False] * 4]
    _assert_same(*_rpn_losses(plain, _gt_instances()),
                 *_rpn_losses(ours, _gt_instances(truncated)))


def test_rpn_flags_reach_positive_anchors():
    head = _build(_rpn_cfg('CropAwareRPNHead', 'CABBLoss'))
    truncated = [[False, False, True, False], [True, True, False, False]]
    gt = _gt_instances(truncated)
    feats = _feats()
    anchor_list, valid_flags = head.get_anchors([f.shape[-2:] for f in feats],
                                                _img_metas(),
                                                device='cpu')
    torch.manual_seed(5)
    targets = head.get_targets(
        anchor_list,
        valid_flags, [gt],
        _img_metas(),
        return_sampling_results=True)
    bbox_weights = torch.cat(targets[3], 1)[0]
    sampling_result = targets[5][0]
    flags = torch.cat(targets[6], 1)[0]
    positive = bbox_weights[:, 0] > 0
    assert positive.sum() == len(sampling_result.pos_inds) > 0
    expected = gt.truncated[sampling_result.pos_assigned_gt_inds]
    assert torch.equal(flags[sampling_result.pos_inds], expected)
    assert not flags[~positive].any()
    assert set(sampling_result.pos_assigned_gt_inds.tolist()) == {0, 1}


def test_rpn_truncation_lowers_loss_and_zeroes_covering_predictions():
    plain = _build(_rpn_cfg('RPNHead', 'SmoothL1Loss'))
    ours = _build(_rpn_cfg('CropAwareRPNHead', 'CABBLoss'))
    some = [[False, False, True, False], [True, True, False, False]]
    loss_plain, _ = _rpn_losses(plain, _gt_instances())
    loss_ours, _ = _rpn_losses(ours, _gt_instances(some))
    sum_plain = sum(loss_plain['loss_rpn_bbox'])
    sum_ours = sum(loss_ours['loss_rpn_bbox'])
    assert sum_ours < sum_plain
    assert torch.equal(
        sum(loss_ours['loss_rpn_cls']), sum(loss_plain['loss_rpn_cls']))
    # Every prediction covers its GT and all sides are cut: zero box loss,
    # while SmoothL1 against the cropped boxes is large.
    for head in (plain, ours):
        _set_wide_regression(head.rpn_reg, head.num_base_priors)
    loss_plain, _ = _rpn_losses(plain, _gt_instances())
    loss_ours, _ = _rpn_losses(ours, _gt_instances([[True] * 4] * 2))
    assert sum(loss_plain['loss_rpn_bbox']) > 0.1
    assert sum(loss_ours['loss_rpn_bbox']) == 0


def test_reg_decoded_bbox_is_rejected():
    cfg = _rpn_cfg('CropAwareRPNHead', 'CABBLoss')
    cfg['reg_decoded_bbox'] = True
    with pytest.raises(ValueError):
        MODELS.build(cfg)


def test_coder_stats_are_bound_and_checked():
    head = _build(_rpn_cfg('CropAwareRPNHead', 'CABBLoss', (1., 1., .5, .5)))
    assert head.loss_bbox.coder_stats == ((0., ) * 4, (1., 1., .5, .5))
    cfg = _rpn_cfg('CropAwareRPNHead', 'CABBLoss')
    cfg['loss_bbox']['stds'] = (0.1, 0.1, 0.2, 0.2)
    with pytest.raises(ValueError):
        MODELS.build(cfg)


def _proposals():
    proposals = InstanceData()
    proposals.bboxes = torch.tensor([[3., 5., 29., 42.], [6., 4., 33., 38.],
                                     [36., 18., 58., 46.], [0., 0., 20., 20.],
                                     [40., 40., 63., 63.],
                                     [33., 22., 61., 41.]])
    return proposals


def _roi_losses(roi_head, truncated, sampler_seed=7):
    sample = DetDataSample(metainfo=dict(img_shape=IMG_SHAPE))
    sample.gt_instances = _gt_instances(truncated)
    torch.manual_seed(sampler_seed)
    losses = roi_head.loss(_feats(), [copy.deepcopy(_proposals())], [sample])
    roi_head.zero_grad()
    _total(losses).backward()
    grads = {n: p.grad.clone() for n, p in roi_head.named_parameters()}
    return losses, grads


@pytest.mark.parametrize(
    'truncated', [None, [[False] * 4, [False] * 4]], ids=['absent', 'false'])
def test_roi_without_truncation_equals_plain_head(truncated):
    plain = _build(
        _roi_cfg('StandardRoIHead', 'Shared2FCBBoxHead', 'SmoothL1Loss'))
    ours = _build(
        _roi_cfg('CropAwareRoIHead', 'CropAwareShared2FCBBoxHead', 'CABBLoss'))
    assert ours.bbox_head.loss_bbox.coder_stats[1] == (0.1, 0.1, 0.2, 0.2)
    _assert_same(*_roi_losses(plain, None), *_roi_losses(ours, truncated))


def test_roi_flags_reach_positive_proposals():
    roi_head = _build(
        _roi_cfg('CropAwareRoIHead', 'CropAwareShared2FCBBoxHead', 'CABBLoss'))
    truncated = [[False, False, True, False], [True, True, False, False]]
    seen = {}
    original = roi_head.bbox_head.loss_bbox.forward

    def spy(pred, target, *args, truncated=None, **kwargs):
        seen['truncated'], seen['target'] = truncated, target
        return original(pred, target, *args, truncated=truncated, **kwargs)

    roi_head.bbox_head.loss_bbox.forward = spy
    _roi_losses(roi_head, truncated)
    flags = seen['truncated']
    assert flags is not None and len(flags) == len(seen['target']) > 0
    rows = {tuple(row) for row in flags.tolist()}
    assert rows <= {tuple(t) for t in truncated} and len(rows) == 2


def test_roi_truncation_lowers_loss_and_zeroes_covering_predictions():
    plain = _build(
        _roi_cfg('StandardRoIHead', 'Shared2FCBBoxHead', 'SmoothL1Loss'))
    ours = _build(
        _roi_cfg('CropAwareRoIHead', 'CropAwareShared2FCBBoxHead', 'CABBLoss'))
    some = [[False, False, True, False], [True, True, False, False]]
    loss_plain, _ = _roi_losses(plain, None)
    loss_ours, _ = _roi_losses(ours, some)
    assert loss_ours['loss_bbox'] < loss_plain['loss_bbox']
    assert torch.equal(loss_ours['loss_cls'], loss_plain['loss_cls'])
    for roi_head in (plain, ours):
        _set_wide_regression(roi_head.bbox_head.fc_reg, 3)
    loss_plain, _ = _roi_losses(plain, None)
    loss_ours, _ = _roi_losses(ours, [[True] * 4] * 2)
    assert loss_plain['loss_bbox'] > 0.1
    assert loss_ours['loss_bbox'] == 0


def test_flags_survive_two_stage_detector():
    """Through ``TwoStageDetector.loss`` (which deep-copies the samples for
    the RPN and zeroes their labels) both box losses receive the flags."""
    rpn_cfg = _rpn_cfg('CropAwareRPNHead', 'CABBLoss')
    rpn_train_cfg = rpn_cfg.pop('train_cfg')
    roi_cfg = _roi_cfg('CropAwareRoIHead', 'CropAwareShared2FCBBoxHead',
                       'CABBLoss')
    rcnn_train_cfg = roi_cfg.pop('train_cfg')
    detector = _build(
        dict(
            type='FasterRCNN',
            backbone=dict(
                type='ResNet',
                depth=18,
                num_stages=2,
                out_indices=(0, 1),
                strides=(1, 2),
                dilations=(1, 1),
                norm_cfg=dict(type='BN', requires_grad=True),
                norm_eval=False),
            neck=dict(
                type='FPN',
                in_channels=[64, 128],
                out_channels=CHANNELS,
                num_outs=2),
            rpn_head=rpn_cfg,
            roi_head=roi_cfg,
            train_cfg=ConfigDict(
                rpn=rpn_train_cfg,
                rpn_proposal=dict(
                    nms_pre=200,
                    max_per_img=50,
                    nms=dict(type='nms', iou_threshold=0.7),
                    min_bbox_size=0),
                rcnn=rcnn_train_cfg),
            test_cfg=ConfigDict(
                rpn=dict(
                    nms_pre=200,
                    max_per_img=50,
                    nms=dict(type='nms', iou_threshold=0.7),
                    min_bbox_size=0),
                rcnn=dict(
                    score_thr=0.05,
                    nms=dict(type='nms', iou_threshold=0.5),
                    max_per_img=10))))
    truncated = [[True, False, False, True], [False, True, True, False]]
    seen = {}
    for name, loss in (('rpn', detector.rpn_head.loss_bbox),
                       ('rcnn', detector.roi_head.bbox_head.loss_bbox)):

        def spy(pred,
                target,
                *args,
                _name=name,
                _fwd=loss.forward,
                truncated=None,
                **kwargs):
            seen.setdefault(_name, []).append(truncated)
            return _fwd(pred, target, *args, truncated=truncated, **kwargs)

        loss.forward = spy
    sample = DetDataSample(
        metainfo=dict(
            img_shape=IMG_SHAPE,
            pad_shape=IMG_SHAPE,
            batch_input_shape=IMG_SHAPE))
    sample.gt_instances = _gt_instances(truncated)
    torch.manual_seed(3)
    losses = detector.loss(torch.randn(1, 3, *IMG_SHAPE), [sample])
    assert {'loss_rpn_bbox', 'loss_bbox'} <= losses.keys()
    expected = {tuple(t) for t in truncated}
    for name in ('rpn', 'rcnn'):
        flags = torch.cat(seen[name])
        rows = {tuple(r) for r in flags.tolist()} - {(False, ) * 4}
        assert rows == expected, name
