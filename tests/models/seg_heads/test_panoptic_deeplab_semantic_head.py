"""PanopticDeepLabSemanticHead: Panoptic-DeepLab's HRNet decoder + all-class
classifier, with OHEM as its default loss."""
import pytest
import torch
import torch.nn.functional as F
from mmcv.cnn import DepthwiseSeparableConvModule
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData

import mmpanoptic_cabb  # noqa: F401  (registers the modules)
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmpanoptic_cabb.models.layers import ABN, LocalAvgPool2d
from mmpanoptic_cabb.models.losses import (OHEMCrossEntropyLoss,
                                           ohem_cross_entropy)
from mmpanoptic_cabb.models.seg_heads import (PanopticDeepLabDecoder,
                                              PanopticDeepLabSemanticHead)

WIDTHS = (4, 6, 8, 10)  # branch widths at strides 4, 8, 16, 32
T, S = 2, 3
#: A small head on the ``WIDTHS`` branches.
SMALL_HEAD = dict(
    num_things_classes=T,
    num_stuff_classes=S,
    in_channels=WIDTHS,
    project_channels=(3, 4, 5),
    decoder_channels=8,
    aspp_channels=6,
    head_channels=7)


def _head(**kwargs) -> PanopticDeepLabSemanticHead:
    cfg = dict(SMALL_HEAD, dilations=(1, 2, 3))
    cfg.update(kwargs)
    torch.manual_seed(0)
    return PanopticDeepLabSemanticHead(**cfg)


def _feats(n=2, size=64, seed=1):
    """Body branches of an (size x size) input, finest first."""
    gen = torch.Generator().manual_seed(seed)
    return [
        torch.randn(n, c, size // s, size // s, generator=gen)
        for c, s in zip(WIDTHS, (4, 8, 16, 32))
    ]


def _samples(gt, img_shapes=None):
    samples = []
    for i in range(gt.shape[0]):
        sample = DetDataSample()
        sample.gt_sem_seg = PixelData(sem_seg=gt[i])
        if img_shapes is not None:
            sample.set_metainfo(dict(img_shape=img_shapes[i]))
        samples.append(sample)
    return samples


def test_output_shape_is_all_classes_at_quarter_resolution():
    head = _head().eval()
    out = head(_feats(n=2, size=64))
    assert out['seg_preds'].shape == (2, T + S, 16, 16)
    assert out['seg_feats'].shape == (2, 8, 16, 16)
    # non-square input, sizes not divisible all the way down
    feats = [
        torch.randn(1, 4, 24, 40),
        torch.randn(1, 6, 12, 20),
        torch.randn(1, 8, 6, 10),
        torch.randn(1, 10, 3, 5)
    ]
    assert head(feats)['seg_preds'].shape == (1, T + S, 24, 40)


@pytest.mark.parametrize('branch', [0, 1, 2, 3])
def test_output_depends_on_every_branch(branch):
    """Perturbing the 1/4, 1/8, 1/16 or 1/32 branch alone changes the
    logits (the decoder uses all three skips, not just the 1/4 one)."""
    head = _head().eval()
    feats = _feats()
    with torch.no_grad():
        base = head(feats)['seg_preds']
        perturbed = list(feats)
        perturbed[branch] = feats[branch] + torch.randn_like(feats[branch])
        changed = head(perturbed)['seg_preds']
    assert (changed - base).abs().max() > 1e-4


@pytest.mark.parametrize('branch', [0, 1, 2])
def test_skip_reaches_the_output_through_its_projection(branch):
    """Zero-init trick: with the projection of one skip zeroed (weights and
    its norm's shift), that branch no longer affects the output."""
    head = _head(norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU')).eval()
    # projections are stored coarse to fine: 1/16, 1/8, 1/4
    projection = head.decoder.projections[2 - branch]
    with torch.no_grad():
        projection.conv.weight.zero_()
        projection.bn.bias.zero_()
        feats = _feats()
        base = head(feats)['seg_preds']
        perturbed = list(feats)
        perturbed[branch] = feats[branch] + 10 * torch.randn_like(
            feats[branch])
        torch.testing.assert_close(head(perturbed)['seg_preds'], base)


def test_every_skip_projection_and_the_aspp_receive_gradient():
    head = _head().train()
    head.init_weights()
    out = head(_feats())['seg_preds']
    out.square().sum().backward()
    assert len(head.decoder.projections) == 3
    for projection in head.decoder.projections:
        assert projection.conv.weight.grad.abs().sum() > 0
    for conv in head.decoder.aspp.convs:
        assert conv.conv.weight.grad.abs().sum() > 0
    assert head.decoder.aspp.image_pool_conv.conv.weight.grad.abs().sum() > 0
    assert head.conv_seg.weight.grad.abs().sum() > 0


def test_structure_widths_and_norms():
    head = _head(dilations=(2, 5))
    decoder = head.decoder
    assert isinstance(decoder, PanopticDeepLabDecoder)
    assert [c.conv.dilation[0] for c in decoder.aspp.convs] == [1, 2, 5]
    assert decoder.aspp.channels == 6
    # skip projections, coarse to fine:
    # 1/16 (8 -> 5), 1/8 (6 -> 4), 1/4 (4 -> 3)
    assert [(p.conv.in_channels, p.conv.out_channels, p.conv.kernel_size)
            for p in decoder.projections] == [(8, 5, (1, 1)), (6, 4, (1, 1)),
                                              (4, 3, (1, 1))]
    # one depthwise-separable 5x5 per stage: [upsampled, skip] -> 8
    assert [f.depthwise_conv.conv.in_channels
            for f in decoder.fusions] == [6 + 5, 8 + 4, 8 + 3]
    for fusion in decoder.fusions:
        assert isinstance(fusion, DepthwiseSeparableConvModule)
        assert fusion.depthwise_conv.conv.kernel_size == (5, 5)
        assert fusion.depthwise_conv.conv.padding == (2, 2)
        assert fusion.depthwise_conv.conv.groups == \
            fusion.depthwise_conv.conv.in_channels
        assert fusion.pointwise_conv.conv.out_channels == 8
    # semantic head: dsconv 5x5 8 -> 7, then the 1x1 classifier
    assert isinstance(head.head_conv, DepthwiseSeparableConvModule)
    assert head.head_conv.depthwise_conv.conv.kernel_size == (5, 5)
    assert head.head_conv.pointwise_conv.conv.out_channels == 7
    assert (head.conv_seg.in_channels, head.conv_seg.out_channels,
            head.conv_seg.kernel_size) == (7, T + S, (1, 1))
    # ABN everywhere, no extra activation after it; the norm-free image
    # pooling branch activates with the ABN slope
    norms = [m for m in head.modules() if isinstance(m, ABN)]
    # ASPP: 1x1 + 2 atrous + projection; 3 projections; 3 fusions x 2;
    # head dsconv x 2
    assert len(norms) == 4 + 3 + 6 + 2
    assert all(n.activation == 'leaky_relu' for n in norms)
    activations = [
        m for m in head.modules()
        if isinstance(m, (torch.nn.ReLU, torch.nn.LeakyReLU))
    ]
    assert activations == [head.decoder.aspp.image_pool_conv.activate]
    assert activations[0].negative_slope == 0.01
    # dropout after the ASPP projection: detectron2's 0.1 by default
    assert decoder.aspp.dropout.p == 0.1
    assert _head(aspp_dropout_ratio=0.5).decoder.aspp.dropout.p == 0.5


def test_paper_widths_by_default():
    head = PanopticDeepLabSemanticHead(
        num_things_classes=37, num_stuff_classes=28)
    decoder = head.decoder
    assert decoder.in_channels == (48, 96, 192, 384)
    assert decoder.aspp.in_channels == 384
    assert decoder.aspp.dilations == (3, 6, 9)
    assert [p.conv.out_channels for p in decoder.projections] == [128, 64, 32]
    assert [f.pointwise_conv.conv.out_channels
            for f in decoder.fusions] == [256] * 3
    assert head.head_conv.pointwise_conv.conv.out_channels == 256
    assert head.conv_seg.out_channels == 65
    assert isinstance(head.loss_seg, OHEMCrossEntropyLoss)
    assert head.loss_seg.ratio == 0.25


def test_pooling_size_covering_the_map_equals_global_pooling():
    global_head = _head().eval()
    local_head = _head(pooling_size=(2, 2)).eval()
    assert isinstance(local_head.decoder.aspp.image_pool, LocalAvgPool2d)
    local_head.load_state_dict(global_head.state_dict())
    feats = _feats(size=64)  # 1/32 branch is 2x2: the window covers it
    with torch.no_grad():
        torch.testing.assert_close(
            local_head(feats)['seg_preds'],
            global_head(feats)['seg_preds'])
        big = _feats(n=1, size=256)  # 8x8 at 1/32: local context only
        assert not torch.allclose(
            local_head(big)['seg_preds'],
            global_head(big)['seg_preds'])


def test_project_channels_must_match_the_skips():
    with pytest.raises(ValueError, match='project_channels'):
        _head(project_channels=(3, 4))
    with pytest.raises(ValueError, match='branches'):
        _head().decoder(_feats()[:3])


def test_fewer_branches_give_fewer_stages():
    head = _head(in_channels=(4, 6), project_channels=(3, ))
    assert len(head.decoder.fusions) == 1
    out = head.eval()([torch.randn(1, 4, 8, 8), torch.randn(1, 6, 4, 4)])
    assert out['seg_preds'].shape == (1, T + S, 8, 8)


def test_default_ohem_loss_through_the_head_is_finite_and_backprops():
    init_default_scope('mmdet')
    head = MODELS.build(
        dict(type='PanopticDeepLabSemanticHead', pooling_size=2, **SMALL_HEAD))
    head.init_weights()
    head.train()
    feats = [f.requires_grad_() for f in _feats()]
    gt = torch.randint(0, T + S, (2, 1, 64, 64), dtype=torch.uint8)
    gt[:, :, :8] = 255
    loss = head.loss(feats, _samples(gt))['loss_seg']
    assert loss.ndim == 0 and torch.isfinite(loss) and loss > 0
    loss.backward()
    assert head.conv_seg.weight.grad.abs().sum() > 0
    for feat in feats:
        assert feat.grad.abs().sum() > 0


def test_loss_is_at_label_resolution_and_padding_is_not_counted():
    """The base upsamples the 1/4 logits to the ground truth before OHEM,
    and the batch padding outside img_shape stays out of each image's
    pixel count."""
    head = _head().eval()  # deterministic (dropout off) for the comparison
    feats = _feats()
    gt = torch.randint(0, T + S, (2, 1, 64, 64), dtype=torch.uint8)
    gt[:, :, :4] = 255
    gt[1, :, 48:] = 255  # image 1 is 48 x 56 inside the 64 x 64 batch
    gt[1, :, :, 56:] = 255
    samples = _samples(gt, img_shapes=[(64, 64), (48, 56)])
    logits = head(feats)['seg_preds']
    assert logits.shape == (2, T + S, 16, 16)
    up = F.interpolate(
        logits, size=(64, 64), mode='bilinear', align_corners=False)
    expected = (ohem_cross_entropy(up[:1], gt[:1, 0]) + ohem_cross_entropy(
        up[1:, :, :48, :56], gt[1:, 0, :48, :56])) / 2
    torch.testing.assert_close(head.loss(feats, samples)['loss_seg'], expected)


def test_cross_entropy_in_the_loss_slot_is_unchanged_by_the_padding_mask():
    """With mmdet's CrossEntropyLoss (the Seamless baseline's former loss)
    the head still gives the plain mean over labelled pixels."""
    head = _head(
        loss_seg=dict(
            type='CrossEntropyLoss',
            ignore_index=255,
            avg_non_ignore=True,
            loss_weight=1.0)).eval()
    feats = _feats()
    gt = torch.randint(0, T + S, (2, 1, 32, 32), dtype=torch.uint8)
    gt[:, :, :4] = 255
    gt[1, :, 24:] = 255
    samples = _samples(gt, img_shapes=[(32, 32), (24, 32)])
    up = F.interpolate(
        head(feats)['seg_preds'], size=(32, 32), mode='bilinear')
    expected = F.cross_entropy(up, gt[:, 0].long(), ignore_index=255)
    torch.testing.assert_close(head.loss(feats, samples)['loss_seg'], expected)
    # ground truth at half the input: logits resized to it
    half = _head(seg_rescale_factor=0.5).eval()
    loss = half.loss(feats, samples)['loss_seg']
    gt_half = F.interpolate(gt.float(), scale_factor=0.5, mode='nearest')
    up = F.interpolate(
        half(feats)['seg_preds'], size=(16, 16), mode='bilinear')
    torch.testing.assert_close(
        loss,
        ohem_cross_entropy(
            up,
            gt_half[:, 0].long(),
            weight=torch.stack(
                [torch.ones(16, 16),
                 F.pad(torch.ones(12, 16), (0, 0, 0, 4))])))


def test_predict_returns_image_sized_logits():
    head = _head().eval()
    feats = _feats(size=32)
    metas = [
        dict(
            batch_input_shape=(32, 32), img_shape=(30, 28), ori_shape=(60, 56))
    ] * 2
    preds = head.predict(feats, metas, rescale=True)
    assert [p.shape for p in preds] == [(T + S, 60, 56)] * 2
    preds = head.predict(feats, metas, rescale=False)
    assert [p.shape for p in preds] == [(T + S, 30, 28)] * 2
