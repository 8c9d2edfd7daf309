"""ASPP: branches, configurable dilations / widths, global vs window
pooling."""
import pytest
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule

import mmpanoptic_cabb  # noqa: F401  (registers ABN)
from mmpanoptic_cabb.models.layers import ABN, ASPP, LocalAvgPool2d


def _pair(**kwargs):
    """A global-pooling ASPP and a window-pooling copy with equal weights."""
    torch.manual_seed(0)
    global_aspp = ASPP(6, 4, **kwargs).eval()
    local_aspp = ASPP(6, 4, pooling_size=(5, 7), **kwargs).eval()
    local_aspp.load_state_dict(global_aspp.state_dict())
    return global_aspp, local_aspp


def test_branches_follow_dilations_and_channels():
    aspp = ASPP(10, 12, dilations=(2, 4, 8, 16))
    # 1x1 branch + one 3x3 branch per dilation
    assert len(aspp.convs) == 5
    assert aspp.convs[0].conv.kernel_size == (1, 1)
    for conv, dilation in zip(aspp.convs[1:], (2, 4, 8, 16)):
        assert isinstance(conv, ConvModule)
        assert conv.conv.kernel_size == (3, 3)
        assert conv.conv.dilation == (dilation, dilation)
        assert conv.conv.padding == (dilation, dilation)
        assert (conv.conv.in_channels, conv.conv.out_channels) == (10, 12)
    # projection of the 1x1, 4 atrous and the pooling branch
    assert aspp.project.conv.in_channels == 6 * 12
    assert aspp.project.conv.out_channels == 12
    assert isinstance(aspp.image_pool, nn.AdaptiveAvgPool2d)
    assert aspp.image_pool_conv.conv.bias is not None
    assert aspp.image_pool_conv.norm_cfg is None
    assert aspp.dropout.p == 0.1
    out = aspp(torch.randn(2, 10, 5, 6))
    assert out.shape == (2, 12, 5, 6)


def test_default_rates_are_panoptic_deeplab_hrnet():
    aspp = ASPP(8)
    assert aspp.dilations == (3, 6, 9)
    assert aspp.channels == 256
    assert [c.conv.dilation[0] for c in aspp.convs] == [1, 3, 6, 9]


def test_separable_branches_and_abn_without_extra_activation():
    aspp = ASPP(
        8,
        4,
        dilations=(2, ),
        separable=True,
        norm_cfg=dict(type='ABN'),
        act_cfg=None,
        pool_act_cfg=dict(type='LeakyReLU', negative_slope=0.01))
    assert isinstance(aspp.convs[1], DepthwiseSeparableConvModule)
    assert aspp.convs[1].depthwise_conv.conv.dilation == (2, 2)
    assert aspp.convs[1].depthwise_conv.conv.groups == 8
    norms = [m for m in aspp.modules() if isinstance(m, ABN)]
    # 1x1, dw + pw of the atrous branch, projection
    assert len(norms) == 4
    # the only activation module is the one of the (norm-free) pool branch
    acts = [
        m for m in aspp.modules() if isinstance(m, (nn.ReLU, nn.LeakyReLU))
    ]
    assert acts == [aspp.image_pool_conv.activate]


def test_window_covering_the_map_equals_global_pooling():
    global_aspp, local_aspp = _pair()
    assert isinstance(local_aspp.image_pool, LocalAvgPool2d)
    for size in ((5, 7), (3, 4), (1, 1)):  # window >= map
        x = torch.randn(2, 6, *size)
        torch.testing.assert_close(local_aspp(x), global_aspp(x))


def test_window_smaller_than_the_map_pools_locally():
    global_aspp, local_aspp = _pair()
    x = torch.randn(1, 6, 15, 21)
    # pooled branch alone: global is constant over the map, local is not
    pooled_global = global_aspp.image_pool(x)
    pooled_local = local_aspp.image_pool(x)
    assert pooled_global.shape == (1, 6, 1, 1)
    assert pooled_local.shape == x.shape
    torch.testing.assert_close(pooled_local[..., 7, 10],
                               x[..., 5:10, 7:14].mean(dim=(-2, -1)))
    assert not torch.allclose(local_aspp(x), global_aspp(x))


@pytest.mark.parametrize('ratio', [0.0, 0.5])
def test_dropout_ratio_configurable(ratio):
    aspp = ASPP(4, 4, dropout_ratio=ratio)
    assert aspp.dropout.p == ratio
