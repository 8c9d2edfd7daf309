"""Tests of the crop-aware RPN / box heads that route truncation flags.

The flags travel ``gt_instances.truncated`` -> ``TruncationAwareRandomSampler``
(``SamplingResult.pos_gt_truncated``) -> per-anchor / per-RoI ``truncated``
-> ``CABBLoss(..., truncated=...)``; the RoI head is mmdet's
``StandardRoIHead``.
"""
import copy

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmdet.models.task_modules.prior_generators import anchor_inside_flags
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

import mmpanoptic_cabb  # noqa: F401  (registers the modules)
from mmpanoptic_cabb.models.layers import ABN, SyncABN
from mmpanoptic_cabb.models.losses import CABBLoss
from mmpanoptic_cabb.models.roi_heads import ABNFCNMaskHead

CHANNELS = 8
IMG_SHAPE = (64, 64)
STRIDES = [4, 8]
BETA = 1. / 9
SAMPLER = 'TruncationAwareRandomSampler'


def _default_sampler(head_type):
    """mmdet's sampler for mmdet's heads, ours for the crop-aware ones."""
    return SAMPLER if head_type.startswith('CropAware') else 'RandomSampler'


def _train_cfg(head_type, sampler, assigner, sampling, **extra):
    """Train config of the stage of ``head_type``: mmdet's
    ``MaxIoUAssigner`` with the ``assigner`` thresholds (no ignore regions)
    and the ``sampler`` type (the head's default when None) with the
    ``sampling`` settings (no bound on the negatives)."""
    return ConfigDict(
        assigner=dict(type='MaxIoUAssigner', ignore_iof_thr=-1, **assigner),
        sampler=dict(
            type=sampler or _default_sampler(head_type),
            neg_pos_ub=-1,
            **sampling),
        **extra,
        pos_weight=-1,
        debug=False)


def _rpn_cfg(head_type, loss_type, stds=(1., 1., 1., 1.), sampler=None):
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
        train_cfg=_train_cfg(
            head_type,
            sampler,
            dict(
                pos_iou_thr=0.7,
                neg_iou_thr=0.3,
                min_pos_iou=0.3,
                match_low_quality=True),
            dict(num=64, pos_fraction=0.5, add_gt_as_proposals=False),
            allowed_border=-1))


def _roi_extractor(output_size):
    """RoIAlign of ``output_size`` cells over the ``STRIDES`` levels."""
    return dict(
        type='SingleRoIExtractor',
        roi_layer=dict(
            type='RoIAlign', output_size=output_size, sampling_ratio=0),
        out_channels=CHANNELS,
        featmap_strides=STRIDES)


def _roi_cfg(bbox_head_type, loss_type, sampler=None):
    return dict(
        type='StandardRoIHead',
        bbox_roi_extractor=_roi_extractor(7),
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
        train_cfg=_train_cfg(
            bbox_head_type,
            sampler,
            dict(
                pos_iou_thr=0.5,
                neg_iou_thr=0.5,
                min_pos_iou=0.5,
                match_low_quality=False),
            dict(num=32, pos_fraction=0.25, add_gt_as_proposals=True)))


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
    """Bitwise equal losses (per level for lists) and gradients."""
    assert losses_a.keys() == losses_b.keys()
    for key in losses_a:
        a, b = losses_a[key], losses_b[key]
        assert isinstance(a, (list, tuple)) == isinstance(b, (list, tuple))
        if isinstance(a, (list, tuple)):
            assert len(a) == len(b) > 0, key
            assert all(torch.equal(x, y) for x, y in zip(a, b)), key
        else:
            assert torch.equal(a, b), key
    assert grads_a.keys() == grads_b.keys() and len(grads_a) > 0
    for name in grads_a:
        assert torch.equal(grads_a[name], grads_b[name]), name


def test_assert_same_rejects_different_lengths():
    one = dict(loss=[torch.tensor(1.)])
    two = dict(loss=[torch.tensor(1.), torch.tensor(2.)])
    grads = dict(w=torch.zeros(1))
    with pytest.raises(AssertionError):
        _assert_same(one, grads, two, grads)
    with pytest.raises(AssertionError):
        _assert_same(one, grads, one, dict(w=torch.zeros(1), b=torch.zeros(1)))


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


@pytest.mark.parametrize('sampler', [SAMPLER, 'RandomSampler'])
def test_rpn_with_smooth_l1_equals_plain_head(sampler):
    plain = _build(_rpn_cfg('RPNHead', 'SmoothL1Loss'))
    ours = _build(
        _rpn_cfg('CropAwareRPNHead', 'SmoothL1Loss', sampler=sampler))
    truncated = [[True, False, True, False], [False] * 4]
    _assert_same(*_rpn_losses(plain, _gt_instances()),
                 *_rpn_losses(ours, _gt_instances(truncated)))


def _rpn_targets(head, gt_instances, sampler_seed=5):
    """Targets of one image, unpacked by name."""
    feats = _feats()
    anchor_list, valid_flags = head.get_anchors([f.shape[-2:] for f in feats],
                                                _img_metas(),
                                                device='cpu')
    torch.manual_seed(sampler_seed)
    (labels_list, label_weights_list, bbox_targets_list, bbox_weights_list,
     avg_factor, sampling_results, truncated_list) = head.get_targets(
         anchor_list,
         valid_flags, [gt_instances],
         _img_metas(),
         return_sampling_results=True)
    bbox_weights = torch.cat(bbox_weights_list, 1)[0]
    truncated = torch.cat(truncated_list, 1)[0]
    return bbox_weights, truncated, sampling_results[0]


@pytest.mark.parametrize('allowed_border', [-1, 0], ids=['all', 'inside'])
def test_rpn_flags_reach_positive_anchors(allowed_border):
    """Positive anchors get the flags of their assigned GT, all others
    False; with ``allowed_border=0`` the flags are unmapped from the inside
    anchors to all anchors like mmdet's targets."""
    cfg = _rpn_cfg('CropAwareRPNHead', 'CABBLoss')
    cfg['train_cfg']['allowed_border'] = allowed_border
    head = _build(cfg)
    truncated = [[False, False, True, False], [True, True, False, False]]
    gt = _gt_instances(truncated)
    bbox_weights, flags, sampling_result = _rpn_targets(head, gt)
    positive = bbox_weights[:, 0] > 0
    assert flags.shape == (len(bbox_weights), 4) and flags.dtype == torch.bool
    assert positive.sum() == len(sampling_result.pos_inds) > 0
    expected = gt.truncated[sampling_result.pos_assigned_gt_inds]
    assert torch.equal(sampling_result.pos_gt_truncated, expected)
    # pos_inds are sorted, so positives keep their order when unmapped
    assert torch.equal(flags[positive], expected)
    assert not flags[~positive].any()
    assert set(sampling_result.pos_assigned_gt_inds.tolist()) == {0, 1}
    if allowed_border == 0:
        anchor_list, valid_flags = head.get_anchors(
            [f.shape[-2:] for f in _feats()], _img_metas(), device='cpu')
        inside = anchor_inside_flags(
            torch.cat(anchor_list[0]), torch.cat(valid_flags[0]), IMG_SHAPE,
            allowed_border)
        assert not inside.all()  # the unmap to all anchors is exercised
        assert not flags[~inside].any()


def test_rpn_without_gt_equals_plain_head():
    plain = _build(_rpn_cfg('RPNHead', 'SmoothL1Loss'))
    ours = _build(_rpn_cfg('CropAwareRPNHead', 'CABBLoss'))
    empty = InstanceData(
        bboxes=torch.zeros((0, 4)),
        labels=torch.zeros((0, ), dtype=torch.long),
        truncated=torch.zeros((0, 4), dtype=torch.bool))
    plain_empty = InstanceData(
        bboxes=torch.zeros((0, 4)),
        labels=torch.zeros((0, ), dtype=torch.long))
    _assert_same(*_rpn_losses(plain, plain_empty), *_rpn_losses(ours, empty))
    _, flags, sampling_result = _rpn_targets(ours, empty)
    assert sampling_result.pos_gt_truncated.shape == (0, 4)
    assert not flags.any()


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
    plain = _build(_roi_cfg('Shared2FCBBoxHead', 'SmoothL1Loss'))
    ours = _build(_roi_cfg('CropAwareShared2FCBBoxHead', 'CABBLoss'))
    assert ours.bbox_head.loss_bbox.coder_stats[1] == (0.1, 0.1, 0.2, 0.2)
    _assert_same(*_roi_losses(plain, None), *_roi_losses(ours, truncated))


def test_roi_flags_reach_positive_proposals():
    """The box loss gets exactly the flags of each positive's GT, in the
    order of the regression targets (positives of each image first)."""
    roi_head = _build(_roi_cfg('CropAwareShared2FCBBoxHead', 'CABBLoss'))
    truncated = [[False, False, True, False], [True, True, False, False]]
    seen = {'results': []}
    original = roi_head.bbox_head.loss_bbox.forward
    original_sample = roi_head.bbox_sampler.sample

    def spy(pred, target, *args, truncated=None, **kwargs):
        seen['truncated'], seen['target'] = truncated, target
        return original(pred, target, *args, truncated=truncated, **kwargs)

    def sample_spy(*args, **kwargs):
        seen['results'].append(original_sample(*args, **kwargs))
        return seen['results'][-1]

    roi_head.bbox_head.loss_bbox.forward = spy
    roi_head.bbox_sampler.sample = sample_spy
    _roi_losses(roi_head, truncated)
    gt = _gt_instances(truncated)
    expected = torch.cat(
        [gt.truncated[res.pos_assigned_gt_inds] for res in seen['results']])
    for res in seen['results']:
        assert torch.equal(res.pos_gt_truncated,
                           gt.truncated[res.pos_assigned_gt_inds])
    flags = seen['truncated']
    assert len(expected) == len(seen['target']) > 0
    assert torch.equal(flags, expected)
    assert {tuple(row)
            for row in flags.tolist()} == {tuple(t)
                                           for t in truncated}


def test_cabb_without_truncation_aware_sampler_raises():
    """mmdet's RandomSampler sets no pos_gt_truncated: CABBLoss must not
    silently train with all-False flags."""
    cut = [[True] * 4] * 2
    rpn = _build(
        _rpn_cfg('CropAwareRPNHead', 'CABBLoss', sampler='RandomSampler'))
    with pytest.raises(ValueError, match='TruncationAwareRandomSampler'):
        _rpn_losses(rpn, _gt_instances(cut))
    roi_head = _build(
        _roi_cfg(
            'CropAwareShared2FCBBoxHead', 'CABBLoss', sampler='RandomSampler'))
    with pytest.raises(ValueError, match='TruncationAwareRandomSampler'):
        _roi_losses(roi_head, cut)


@pytest.mark.parametrize('sampler', [SAMPLER, 'RandomSampler'])
def test_roi_with_smooth_l1_equals_plain_head(sampler):
    plain = _build(_roi_cfg('Shared2FCBBoxHead', 'SmoothL1Loss'))
    ours = _build(
        _roi_cfg(
            'CropAwareShared2FCBBoxHead', 'SmoothL1Loss', sampler=sampler))
    _assert_same(*_roi_losses(plain, None),
                 *_roi_losses(ours, [[True] * 4] * 2))


def test_roi_truncation_lowers_loss_and_zeroes_covering_predictions():
    plain = _build(_roi_cfg('Shared2FCBBoxHead', 'SmoothL1Loss'))
    ours = _build(_roi_cfg('CropAwareShared2FCBBoxHead', 'CABBLoss'))
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


def _detector_cfg(rpn_cfg, roi_cfg, detector_type='FasterRCNN'):
    """A small two-stage detector (ResNet-18 stages 1-2, FPN) around the
    given RPN and RoI head configs (their ``train_cfg`` moves to the model)."""
    rpn_cfg, roi_cfg = copy.deepcopy(rpn_cfg), copy.deepcopy(roi_cfg)
    rpn_train_cfg = rpn_cfg.pop('train_cfg')
    rcnn_train_cfg = roi_cfg.pop('train_cfg')
    return dict(
        type=detector_type,
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
                max_per_img=10)))


def _spy_truncated(detector):
    """Record the ``truncated`` flags each box loss of ``detector`` gets."""
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
    return seen


def _detector_sample(truncated, with_masks=False):
    sample = DetDataSample(
        metainfo=dict(
            img_shape=IMG_SHAPE,
            pad_shape=IMG_SHAPE,
            batch_input_shape=IMG_SHAPE))
    sample.gt_instances = _gt_instances(truncated)
    if with_masks:
        masks = np.zeros((2, *IMG_SHAPE), dtype=np.uint8)
        for mask, box in zip(masks, sample.gt_instances.bboxes.long()):
            x0, y0, x1, y1 = box.tolist()
            mask[y0:y1, x0:x1] = 1
        sample.gt_instances.masks = BitmapMasks(masks, *IMG_SHAPE)
    return sample


def _assert_flags_seen(seen, truncated):
    expected = {tuple(t) for t in truncated}
    for name in ('rpn', 'rcnn'):
        flags = torch.cat(seen[name])
        rows = {tuple(r) for r in flags.tolist()} - {(False, ) * 4}
        assert rows == expected, name


def test_flags_survive_two_stage_detector():
    """Through ``TwoStageDetector.loss`` (which deep-copies the samples for
    the RPN and zeroes their labels) both box losses receive the flags."""
    detector = _build(
        _detector_cfg(
            _rpn_cfg('CropAwareRPNHead', 'CABBLoss'),
            _roi_cfg('CropAwareShared2FCBBoxHead', 'CABBLoss')))
    truncated = [[True, False, False, True], [False, True, True, False]]
    seen = _spy_truncated(detector)
    torch.manual_seed(3)
    losses = detector.loss(
        torch.randn(1, 3, *IMG_SHAPE), [_detector_sample(truncated)])
    assert {'loss_rpn_bbox', 'loss_bbox'} <= losses.keys()
    _assert_flags_seen(seen, truncated)


# --- ABN options (Seamless Scene Segmentation heads) ------------------------

ABN_CFG = dict(type='SyncABN', requires_grad=True)
BN_KEYS = {
    'weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'
}


def _abn_rpn_cfg(loss_type='CABBLoss', num_convs=1, norm_cfg=ABN_CFG):
    cfg = _rpn_cfg('CropAwareRPNHead', loss_type)
    cfg.update(norm_cfg=norm_cfg, num_convs=num_convs)
    return cfg


def _abn_bbox_head_cfg(roi_cfg, fc_norm_cfg=ABN_CFG):
    roi_cfg['bbox_head']['fc_norm_cfg'] = fc_norm_cfg
    return roi_cfg


def _abn_roi_cfg(loss_type='CABBLoss',
                 fc_norm_cfg=ABN_CFG,
                 mask_norm_cfg=ABN_CFG):
    """StandardRoIHead with the ABN box head and the ABN mask head."""
    cfg = _abn_bbox_head_cfg(
        _roi_cfg('CropAwareShared2FCBBoxHead', loss_type), fc_norm_cfg)
    cfg.update(
        mask_roi_extractor=_roi_extractor(14),
        mask_head=dict(
            type='ABNFCNMaskHead',
            num_convs=4,
            in_channels=CHANNELS,
            conv_out_channels=CHANNELS,
            num_classes=3,
            norm_cfg=mask_norm_cfg,
            loss_mask=dict(
                type='CrossEntropyLoss', use_mask=True, loss_weight=1.0)))
    cfg['train_cfg']['mask_size'] = 28
    return cfg


def _assert_abn(layer, cls=SyncABN):
    assert type(layer) is cls
    assert layer.activation == 'leaky_relu'
    assert layer.activation_param == 0.01
    assert layer.training and layer.affine and layer.track_running_stats


def _assert_no_relu_or_dropout(module):
    kinds = {type(m) for m in module.modules()}
    assert not kinds & {nn.ReLU, nn.ReLU6, nn.Dropout}, kinds


def _conv_module_with_abn(module, cls=SyncABN):
    assert isinstance(module, ConvModule)
    assert module.conv.bias is None
    assert module.with_norm and not module.with_activation
    assert not hasattr(module, 'activate')
    _assert_abn(module.norm, cls)
    assert module.norm_name == 'bn'  # mmcv's name: ``<conv module>.bn.*``


def _capture_input(module):
    """Record the input of ``module`` at each call."""
    seen = []
    module.register_forward_pre_hook(lambda _, args: seen.append(args[0]))
    return seen


@pytest.mark.parametrize('num_convs', [1, 2])
def test_abn_rpn_head_modules(num_convs):
    head = _build(_abn_rpn_cfg(num_convs=num_convs))
    convs = [head.rpn_conv] if num_convs == 1 else list(head.rpn_conv)
    assert len(convs) == num_convs
    for conv in convs:
        _conv_module_with_abn(conv)
        assert conv.conv.kernel_size == (3, 3)
        assert conv.conv.padding == (1, 1)
        assert conv.conv.stride == (1, 1)
    _assert_no_relu_or_dropout(head)
    # predictors as mmdet's: 1x1 convs with bias
    for pred, out in ((head.rpn_cls, 3), (head.rpn_reg, 12)):
        assert pred.kernel_size == (1, 1) and pred.bias is not None
        assert pred.out_channels == out


def test_abn_rpn_head_forward_applies_no_relu():
    """The predictors see the ABN output itself (leaky: negative values
    survive), not a ReLU of it."""
    head = _build(_abn_rpn_cfg())
    feats = _feats()
    seen = _capture_input(head.rpn_cls)
    cls_scores, bbox_preds = head(feats)
    for feat, hidden, cls_score, bbox_pred in zip(feats, seen, cls_scores,
                                                  bbox_preds):
        bn = head.rpn_conv.bn
        expected = F.leaky_relu(
            F.batch_norm(
                F.conv2d(feat, head.rpn_conv.conv.weight, padding=1), None,
                None, bn.weight, bn.bias, True, 0., bn.eps), 0.01)
        torch.testing.assert_close(hidden, expected)
        assert (hidden < 0).any()
        n, _, h, w = feat.shape
        assert cls_score.shape == (n, 3, h, w)
        assert bbox_pred.shape == (n, 12, h, w)


def test_default_rpn_head_is_mmdet_rpn_head():
    plain = _build(_rpn_cfg('RPNHead', 'SmoothL1Loss'))
    ours = _build(_rpn_cfg('CropAwareRPNHead', 'SmoothL1Loss'))
    assert ours.norm_cfg is None
    assert type(ours.rpn_conv) is nn.Conv2d and ours.rpn_conv.bias is not None
    assert list(ours.state_dict()) == list(plain.state_dict())
    ours.load_state_dict(plain.state_dict(), strict=True)
    feats = _feats()
    for a, b in zip(plain(feats), ours(feats)):
        assert all(torch.equal(x, y) for x, y in zip(a, b))


def test_abn_bbox_head_modules_and_forward():
    roi_head = _build(
        _abn_bbox_head_cfg(_roi_cfg('CropAwareShared2FCBBoxHead', 'CABBLoss')))
    head = roi_head.bbox_head
    assert len(head.shared_fcs) == len(head.shared_fc_norms) == 2
    assert [fc.in_features for fc in head.shared_fcs] == [CHANNELS * 49, 16]
    for fc, norm in zip(head.shared_fcs, head.shared_fc_norms):
        assert type(fc) is nn.Linear and fc.bias is None
        assert fc.out_features == 16
        _assert_abn(norm)
    _assert_no_relu_or_dropout(head)
    assert not hasattr(head, 'relu')
    # class-specific regression, predictors with bias
    assert not head.reg_class_agnostic
    assert head.fc_reg.out_features == 4 * 3 and head.fc_reg.bias is not None
    assert head.fc_cls.out_features == 3 + 1 and head.fc_cls.bias is not None
    seen = _capture_input(head.fc_cls)
    x = torch.randn(10, CHANNELS, 7, 7)
    cls_score, bbox_pred = head(x)
    assert cls_score.shape == (10, 4) and bbox_pred.shape == (10, 12)
    hidden = x.flatten(1)
    for fc, norm in zip(head.shared_fcs, head.shared_fc_norms):
        hidden = F.leaky_relu(
            F.batch_norm(hidden @ fc.weight.t(), None, None, norm.weight,
                         norm.bias, True, 0., norm.eps), 0.01)
    torch.testing.assert_close(seen[0], hidden)
    assert (seen[0] < 0).any()


def test_default_bbox_head_is_mmdet_shared2fc_head():
    plain = _build(_roi_cfg('Shared2FCBBoxHead', 'SmoothL1Loss')).bbox_head
    ours = _build(_roi_cfg('CropAwareShared2FCBBoxHead',
                           'SmoothL1Loss')).bbox_head
    assert ours.fc_norm_cfg is None and isinstance(ours.relu, nn.ReLU)
    assert all(fc.bias is not None for fc in ours.shared_fcs)
    assert not hasattr(ours, 'shared_fc_norms')
    assert list(ours.state_dict()) == list(plain.state_dict())
    ours.load_state_dict(plain.state_dict(), strict=True)
    x = torch.randn(6, CHANNELS, 7, 7)
    for a, b in zip(plain(x), ours(x)):
        assert torch.equal(a, b)


def test_abn_bbox_head_empty_roi_batch():
    head = _build(
        _abn_bbox_head_cfg(_roi_cfg('CropAwareShared2FCBBoxHead',
                                    'CABBLoss'))).bbox_head
    norm = head.shared_fc_norms[0]
    norm.running_var.fill_(4.)
    cls_score, bbox_pred = head(torch.zeros(0, CHANNELS, 7, 7))
    assert cls_score.shape == (0, 4) and bbox_pred.shape == (0, 12)
    assert torch.equal(norm.running_var, torch.full((16, ), 4.))


def test_abn_mask_head_in_roi_head():
    roi_head = _build(_abn_roi_cfg())
    head = roi_head.mask_head
    assert type(head) is ABNFCNMaskHead
    assert len(head.convs) == 4
    for conv in head.convs:
        _conv_module_with_abn(conv)
    assert isinstance(head.upsample, nn.ConvTranspose2d)  # mmcv's wrapper
    assert head.upsample.bias is None
    assert head.upsample.kernel_size == head.upsample.stride == (2, 2)
    _assert_abn(head.upsample_norm)
    _assert_no_relu_or_dropout(roi_head)


def _grads_of_norms(module):
    """Gradients of the weight and bias of every ABN in ``module``."""
    grads = {}
    for name, m in module.named_modules():
        if isinstance(m, ABN):
            grads[name] = (m.weight.grad, m.bias.grad)
    return grads


def test_training_step_with_abn_heads_and_cabb_loss():
    """One SGD step of a Mask R-CNN whose RPN, box and mask heads use the
    ABN options, with CABBLoss in both stages: finite losses, truncation
    flags still reach both box losses, every ABN gets a non-zero gradient,
    and its running statistics are updated."""
    detector = _build(
        _detector_cfg(
            _abn_rpn_cfg(), _abn_roi_cfg(), detector_type='MaskRCNN'))
    detector.init_weights()
    detector.train()
    assert type(detector.rpn_head.loss_bbox) is CABBLoss
    assert type(detector.roi_head.bbox_head.loss_bbox) is CABBLoss
    truncated = [[True, False, False, True], [False, True, True, False]]
    seen = _spy_truncated(detector)
    norm_names = [n for n, m in detector.named_modules() if isinstance(m, ABN)]
    assert {n.split('.')[0] for n in norm_names} == {'rpn_head', 'roi_head'}
    assert len(norm_names) == 1 + 2 + 5  # rpn conv, 2 FCs, 4 convs + deconv
    running = {
        n: m.running_var.clone()
        for n, m in detector.named_modules() if isinstance(m, ABN)
    }
    params = {n: p.detach().clone() for n, p in detector.named_parameters()}
    optimizer = torch.optim.SGD(detector.parameters(), lr=0.01, momentum=0.9)
    torch.manual_seed(3)
    inputs = torch.randn(1, 3, *IMG_SHAPE)
    sample = _detector_sample(truncated, with_masks=True)
    losses = detector.loss(inputs, [sample])
    assert {
        'loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox', 'loss_mask'
    } <= losses.keys()
    total = _total(losses)
    for key, value in losses.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        assert all(torch.isfinite(v).all() for v in values), key
    assert losses['loss_mask'] > 0
    optimizer.zero_grad()
    total.backward()
    _assert_flags_seen(seen, truncated)
    grads = _grads_of_norms(detector)
    assert set(grads) == set(norm_names)
    for name, (weight_grad, bias_grad) in grads.items():
        assert weight_grad is not None and bias_grad is not None, name
        assert torch.isfinite(weight_grad).all(), name
        assert weight_grad.abs().sum() > 0, name
        assert bias_grad.abs().sum() > 0, name
    for name, m in detector.named_modules():
        if isinstance(m, ABN):
            assert not torch.equal(m.running_var, running[name]), name
    optimizer.step()
    changed = {
        n
        for n, p in detector.named_parameters()
        if not torch.equal(p.detach(), params[n])
    }
    assert {f'{n}.weight' for n in norm_names} <= changed
    torch.manual_seed(3)
    again = _total(detector.loss(inputs, [sample]))
    assert torch.isfinite(again)


def _perturb_norms(module, seed=0):
    """Random affine parameters and running statistics in every norm."""
    gen = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            with torch.no_grad():
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + .5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen))
                m.running_mean.copy_(
                    torch.randn(m.running_mean.shape, generator=gen))
                m.running_var.copy_(
                    torch.rand(m.running_var.shape, generator=gen) + .5)
                m.num_batches_tracked.fill_(7)


def _norm_keys(module):
    """State-dict keys of the norms of ``module``, by norm prefix."""
    keys = {}
    for name, m in module.named_modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            keys[name] = {
                k[len(name) + 1:]
                for k in module.state_dict() if k.startswith(name + '.')
            }
    return keys


@pytest.mark.parametrize('part', ['rpn', 'bbox', 'mask'])
def test_abn_heads_state_dict_round_trip(part):
    """The ABN heads save and load their state (strict), their norms carry
    exactly BatchNorm's keys, and a head trained with mmcv's plain BN
    (``BN`` / ``BN1d``, same layout) loads into the ABN head strictly."""

    def build(norm_cfg, seed):
        if part == 'rpn':
            return _build(_abn_rpn_cfg(norm_cfg=norm_cfg), seed)
        roi_head = _build(
            _abn_roi_cfg(fc_norm_cfg=norm_cfg, mask_norm_cfg=norm_cfg), seed)
        return roi_head.bbox_head if part == 'bbox' else roi_head.mask_head

    def run(head):
        head.eval()
        gen = torch.Generator().manual_seed(2)
        if part == 'rpn':
            return torch.cat([t.flatten() for t in sum(head(_feats()), [])])
        if part == 'bbox':
            rois = torch.randn(5, CHANNELS, 7, 7, generator=gen)
            return torch.cat(head(rois), 1)
        return head(torch.randn(3, CHANNELS, 14, 14, generator=gen))

    source = build(ABN_CFG, seed=0)
    _perturb_norms(source)
    keys = _norm_keys(source)
    expected_norms = {
        'rpn': {'rpn_conv.bn'},
        'bbox': {'shared_fc_norms.0', 'shared_fc_norms.1'},
        'mask': {f'convs.{i}.bn'
                 for i in range(4)} | {'upsample_norm'},
    }[part]
    assert set(keys) == expected_norms
    assert all(k == BN_KEYS for k in keys.values())
    target = build(ABN_CFG, seed=1)
    assert not torch.equal(run(source), run(target))
    target.load_state_dict(source.state_dict(), strict=True)
    for name, value in source.state_dict().items():
        assert torch.equal(value, target.state_dict()[name]), name
    torch.testing.assert_close(run(target), run(source))
    # mmcv's BN / BN1d give the same keys: such checkpoints load strictly
    plain_bn = dict(type='BN1d' if part == 'bbox' else 'BN')
    plain = build(plain_bn, seed=2)
    assert list(plain.state_dict()) == list(source.state_dict())
    _perturb_norms(plain, seed=3)
    target.load_state_dict(plain.state_dict(), strict=True)
    norm = target.get_submodule(sorted(expected_norms)[0])
    reference = plain.get_submodule(sorted(expected_norms)[0])
    assert type(norm) is SyncABN
    torch.testing.assert_close(norm.running_mean, reference.running_mean)
    torch.testing.assert_close(norm.weight, reference.weight)
