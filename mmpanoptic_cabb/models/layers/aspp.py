"""Atrous Spatial Pyramid Pooling with global or crop-window image pooling."""
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule
from mmengine.model import BaseModule
from torch import Tensor

from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from .local_avg_pool import LocalAvgPool2d


class ASPP(BaseModule):
    """ASPP of DeepLabV3 as used by Panoptic-DeepLab.

    Parallel branches on the input, all with ``channels`` outputs:

    - a 1x1 conv + norm + act;
    - one 3x3 conv + norm + act per entry of ``dilations`` (dilation and
      padding = that entry; depthwise-separable when ``separable``);
    - image pooling: average pooling, then a 1x1 conv (with bias, no norm)
      and ``pool_act_cfg``, broadcast back to the input size. The pooling is
      global by default; with ``pooling_size`` it is a stride-1 average over
      a window of that size (:class:`LocalAvgPool2d`), so that a model
      trained on crops pools, at full-image inference, the context a training
      crop saw. Where the window covers the whole map the two are equal.

    The concatenated branches are projected by a 1x1 conv + norm + act to
    ``channels`` and passed through dropout (``dropout_ratio``).

    The image-pooling branch has no norm (as in Panoptic-DeepLab and
    detectron2): with global pooling its batch statistics would come from one
    value per image, which is degenerate at one image per device.

    Args:
        in_channels (int): Channels of the input.
        channels (int): Channels of every branch and of the output.
            Defaults to 256.
        dilations (Sequence[int]): Dilations of the 3x3 branches, one branch
            each (the 1x1 branch is always present and not listed).
            Defaults to (3, 6, 9), Panoptic-DeepLab's rates on an HRNet
            1/32 feature.
        pooling_size (int or Sequence[int], optional): Window (height, width)
            of the image pooling in cells of the input, e.g. training crop
            size / stride. None: global average pooling. Defaults to None.
        dropout_ratio (float): Dropout after the projection. Defaults to 0.1
            (detectron2's ``ASPP_DROPOUT``; the original Panoptic-DeepLab uses
            0.5).
        separable (bool): Depthwise-separable 3x3 branches (detectron2's
            ``dsconv`` variant) instead of regular convs (original
            Panoptic-DeepLab). Defaults to False.
        align_corners (bool): ``align_corners`` of the bilinear broadcast of
            the globally pooled features (no effect on a 1x1 source).
            Defaults to False.
        conv_cfg (dict, optional): Config of the conv layers.
        norm_cfg (dict, optional): Config of the norm layers. Defaults to BN.
        act_cfg (dict, optional): Config of the activations after the norms;
            None when the norm carries its own activation (ABN).
            Defaults to ReLU.
        pool_act_cfg (dict, optional): Activation of the image-pooling branch
            (it has no norm). Defaults to ReLU.
        init_cfg (dict or list[dict], optional): Initialization config.
    """

    def __init__(self,
                 in_channels: int,
                 channels: int = 256,
                 dilations: Sequence[int] = (3, 6, 9),
                 pooling_size: Optional[Union[int, Sequence[int]]] = None,
                 dropout_ratio: float = 0.1,
                 separable: bool = False,
                 align_corners: bool = False,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: OptConfigType = dict(type='BN'),
                 act_cfg: OptConfigType = dict(type='ReLU'),
                 pool_act_cfg: OptConfigType = dict(type='ReLU'),
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.channels = channels
        self.dilations = tuple(int(d) for d in dilations)
        self.pooling_size = pooling_size
        self.align_corners = align_corners
        common: ConfigType = dict(
            conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        atrous = DepthwiseSeparableConvModule if separable else ConvModule
        self.convs = nn.ModuleList(
            [ConvModule(in_channels, channels, 1, **common)] + [
                atrous(
                    in_channels,
                    channels,
                    3,
                    padding=dilation,
                    dilation=dilation,
                    **common) for dilation in self.dilations
            ])
        self.image_pool = (
            nn.AdaptiveAvgPool2d(1)
            if pooling_size is None else LocalAvgPool2d(pooling_size))
        self.image_pool_conv = ConvModule(
            in_channels,
            channels,
            1,
            bias=True,
            conv_cfg=conv_cfg,
            norm_cfg=None,
            act_cfg=pool_act_cfg)
        self.project = ConvModule((len(self.convs) + 1) * channels, channels,
                                  1, **common)
        self.dropout = nn.Dropout(dropout_ratio)

    def forward(self, x: Tensor) -> Tensor:
        """Apply the ASPP.

        Args:
            x (Tensor): Features of shape (N, in_channels, H, W).

        Returns:
            Tensor: Features of shape (N, channels, H, W).
        """
        size = x.shape[-2:]
        branches = [conv(x) for conv in self.convs]
        pooled = self.image_pool_conv(self.image_pool(x))
        if pooled.shape[-2:] != size:
            pooled = F.interpolate(
                pooled,
                size=size,
                mode='bilinear',
                align_corners=self.align_corners)
        branches.append(pooled)
        return self.dropout(self.project(torch.cat(branches, dim=1)))
