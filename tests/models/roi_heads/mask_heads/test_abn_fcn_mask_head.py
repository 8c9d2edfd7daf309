"""ABNFCNMaskHead: FCN mask head with an ABN after each conv and the deconv."""
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.models.roi_heads.mask_heads import FCNMaskHead
from mmdet.registry import MODELS
from mmdet.structures.mask import BitmapMasks
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

import mmpanoptic_cabb  # noqa: F401  (registers the modules)
from mmpanoptic_cabb.models.layers import ABN, SyncABN
from mmpanoptic_cabb.models.roi_heads import ABNFCNMaskHead

CHANNELS = 8
NUM_CLASSES = 3


def _build(seed=0, **kwargs):
    torch.manual_seed(seed)
    cfg = dict(
        type='ABNFCNMaskHead',
        num_convs=4,
        in_channels=CHANNELS,
        conv_out_channels=CHANNELS,
        num_classes=NUM_CLASSES)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def _roi_feats(num_rois=5, seed=1):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(num_rois, CHANNELS, 14, 14, generator=gen)


def test_registered_and_is_an_fcn_mask_head():
    assert MODELS.get('ABNFCNMaskHead') is ABNFCNMaskHead
    head = _build()
    assert isinstance(head, FCNMaskHead)
    assert type(head.convs[0].norm) is ABN  # the default norm_cfg


@pytest.mark.parametrize('norm_type, cls', [('ABN', ABN),
                                            ('SyncABN', SyncABN)])
def test_modules(norm_type, cls):
    head = _build(norm_cfg=dict(type=norm_type))
    assert len(head.convs) == 4
    for conv in head.convs:
        assert conv.conv.kernel_size == (3, 3) and conv.conv.bias is None
        assert not conv.with_activation
        assert type(conv.bn) is cls and conv.bn.activation_param == 0.01
    assert isinstance(head.upsample, nn.ConvTranspose2d)
    assert head.upsample.kernel_size == head.upsample.stride == (2, 2)
    assert head.upsample.bias is None
    assert type(head.upsample_norm) is cls
    assert head.upsample_norm.activation == 'leaky_relu'
    assert head.upsample_norm.activation_param == 0.01
    assert head.conv_logits.kernel_size == (1, 1)
    assert head.conv_logits.bias is not None
    assert not any(isinstance(m, nn.ReLU) for m in head.modules())
    assert not hasattr(head, 'relu')


@pytest.mark.parametrize('class_agnostic, channels', [(False, NUM_CLASSES),
                                                      (True, 1)])
def test_forward_shape(class_agnostic, channels):
    head = _build(class_agnostic=class_agnostic)
    assert head(_roi_feats()).shape == (5, channels, 28, 28)
    assert head(_roi_feats(num_rois=0)).shape == (0, channels, 28, 28)


def test_forward_is_abn_after_each_layer():
    """conv -> ABN (x4) -> deconv -> ABN -> 1x1 predictor, nothing else."""
    head = _build()
    x = _roi_feats()

    def abn(y, norm):
        return F.leaky_relu(
            F.batch_norm(y, None, None, norm.weight, norm.bias, True, 0.,
                         norm.eps), 0.01)

    y = x
    for conv in head.convs:
        y = abn(F.conv2d(y, conv.conv.weight, padding=1), conv.bn)
    y = abn(
        F.conv_transpose2d(y, head.upsample.weight, stride=2),
        head.upsample_norm)
    assert (y < 0).any()  # no ReLU before the predictor
    expected = F.conv2d(y, head.conv_logits.weight, head.conv_logits.bias)
    torch.testing.assert_close(head(x), expected)


def test_without_convs_the_deconv_takes_the_roi_features():
    head = _build(num_convs=0, in_channels=CHANNELS, conv_out_channels=4)
    assert head.upsample.in_channels == CHANNELS
    assert head.upsample.out_channels == head.upsample_norm.num_features == 4
    assert head(_roi_feats()).shape == (5, NUM_CLASSES, 28, 28)


def test_init_weights():
    head = _build()
    with torch.no_grad():
        for p in head.parameters():
            p.fill_(3.)
    head.init_weights()
    for norm in [conv.bn for conv in head.convs] + [head.upsample_norm]:
        assert torch.equal(norm.weight, torch.ones_like(norm.weight))
        assert torch.equal(norm.bias, torch.zeros_like(norm.bias))
    assert torch.equal(head.conv_logits.bias,
                       torch.zeros_like(head.conv_logits.bias))
    for weight in (head.upsample.weight, head.conv_logits.weight,
                   head.convs[0].conv.weight):
        assert not (weight == 3.).any()
        assert weight.std() > 0


@pytest.mark.parametrize('kwargs', [
    dict(norm_cfg=None),
    dict(upsample_cfg=dict(type='bilinear', scale_factor=2)),
])
def test_rejected_configs(kwargs):
    with pytest.raises(ValueError):
        _build(**kwargs)


def _sampling_results():
    """Two images' positives: boxes and their GT indices and labels."""
    return [
        SimpleNamespace(
            pos_priors=torch.tensor([[2., 2., 20., 24.], [4., 1., 22., 20.]]),
            pos_assigned_gt_inds=torch.tensor([0, 1]),
            pos_gt_labels=torch.tensor([2, 0])),
        SimpleNamespace(
            pos_priors=torch.tensor([[8., 6., 30., 30.]]),
            pos_assigned_gt_inds=torch.tensor([0]),
            pos_gt_labels=torch.tensor([1])),
    ]


def _gt_instances():
    masks = torch.zeros(2, 32, 32, dtype=torch.uint8)
    masks[0, 4:20, 3:18] = 1
    masks[1, 6:30, 10:28] = 1
    return [
        InstanceData(masks=BitmapMasks(masks.numpy(), 32, 32)),
        InstanceData(masks=BitmapMasks(masks[1:].numpy(), 32, 32)),
    ]


def test_targets_and_loss_are_mmdets():
    ours = _build()
    mmdet_head = MODELS.build(
        dict(
            type='FCNMaskHead',
            num_convs=4,
            in_channels=CHANNELS,
            conv_out_channels=CHANNELS,
            num_classes=NUM_CLASSES))
    mask_preds = torch.randn(3, NUM_CLASSES, 28, 28, requires_grad=True)
    cfg = ConfigDict(mask_size=28)
    a = ours.loss_and_target(mask_preds, _sampling_results(), _gt_instances(),
                             cfg)
    b = mmdet_head.loss_and_target(mask_preds, _sampling_results(),
                                   _gt_instances(), cfg)
    assert a['mask_targets'].shape == (3, 28, 28)
    assert a['mask_targets'].sum() > 0
    assert torch.equal(a['mask_targets'], b['mask_targets'])
    assert torch.equal(a['loss_mask']['loss_mask'],
                       b['loss_mask']['loss_mask'])
    assert a['loss_mask']['loss_mask'] > 0


def test_predict_by_feat_pastes_masks():
    head = _build().eval()
    results = InstanceData(
        bboxes=torch.tensor([[2., 2., 20., 24.]]),
        labels=torch.tensor([1]),
        scores=torch.tensor([0.9]))
    with torch.no_grad():
        mask_preds = head(_roi_feats(num_rois=1))
    out = head.predict_by_feat(
        (mask_preds, ), [results],
        [dict(ori_shape=(32, 32), scale_factor=(1., 1.))],
        ConfigDict(mask_thr_binary=0.5),
        rescale=True)
    assert out[0].masks.shape == (1, 32, 32)
    assert out[0].masks.dtype == torch.bool
