"""Tests of the crop-aware RPN / box heads that route truncation flags.

The flags travel ``gt_instances.truncated`` -> ``TruncationAwareRandomSampler``
(``SamplingResult.pos_gt_truncated``) -> per-anchor / per-RoI ``truncated``
-> ``CABBLoss(..., truncated=...)``; the RoI head is mmdet's
``StandardRoIHead``.
"""
import copy

import pytest
import torch
from mmdet.models.task_modules.prior_generators import anchor_inside_flags
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
SAMPLER = 'TruncationAwareRandomSampler'


def _default_sampler(head_type):
    """mmdet's sampler for mmdet's heads, ours for the crop-aware ones."""
    return SAMPLER if head_type.startswith('CropAware') else 'RandomSampler'


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
        train_cfg=ConfigDict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.7,
                neg_iou_thr=0.3,
                min_pos_iou=0.3,
                match_low_quality=True,
                ignore_iof_thr=-1),
            sampler=dict(
                type=sampler or _default_sampler(head_type),
                num=64,
                pos_fraction=0.5,
                neg_pos_ub=-1,
                add_gt_as_proposals=False),
            allowed_border=-1,
            pos_weight=-1,
            debug=False))


def _roi_cfg(bbox_head_type, loss_type, sampler=None):
    return dict(
        type='StandardRoIHead',
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
                type=sampler or _default_sampler(bbox_head_type),
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


def test_flags_survive_two_stage_detector():
    """Through ``TwoStageDetector.loss`` (which deep-copies the samples for
    the RPN and zeroes their labels) both box losses receive the flags."""
    rpn_cfg = _rpn_cfg('CropAwareRPNHead', 'CABBLoss')
    rpn_train_cfg = rpn_cfg.pop('train_cfg')
    roi_cfg = _roi_cfg('CropAwareShared2FCBBoxHead', 'CABBLoss')
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
