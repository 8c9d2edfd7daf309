"""The per-level "Mini-DL" block of the Seamless semantic head."""
from typing import Sequence, Union

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule, build_conv_layer, build_norm_layer
from mmengine.model import BaseModule
from torch import Tensor

from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from ..layers.local_avg_pool import local_average_pool


class MiniDLBlock(BaseModule):
    """Mini-DL (mini DeepLab) block applied to one pyramid level.

    Three parallel branches on the input: a 3x3 conv (local context), a 3x3
    conv with dilation ``dilation`` (wider context) and a 1x1 conv on a
    ``pooling_size`` average pooling (global context). Their outputs are
    concatenated, normalized (ABN), and projected by a 1x1 conv + ABN to
    ``channels``.

    Args:
        in_channels (int): Channels of the input level.
        channels (int): Channels of each branch and of the output.
        dilation (int): Dilation of the wide-context branch. Defaults to 6.
        pooling_size (int or tuple[int, int]): Window of the global-context
            average pooling at this level. Defaults to (64, 64).
        conv_cfg (dict, optional): Config of the conv layers.
        norm_cfg (dict): Config of the norm layers; an ABN (activation inside
            the norm, so no separate activation is added).
        init_cfg (dict or list[dict], optional): Initialization config.
    """

    def __init__(self,
                 in_channels: int,
                 channels: int,
                 dilation: int = 6,
                 pooling_size: Union[int, Sequence[int]] = (64, 64),
                 conv_cfg: OptConfigType = None,
                 norm_cfg: ConfigType = dict(type='ABN'),
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(pooling_size, int):
            pooling_size = (pooling_size, pooling_size)
        self.pooling_size = tuple(pooling_size)
        self.conv_local = build_conv_layer(
            conv_cfg, in_channels, channels, 3, padding=1, bias=False)
        self.conv_dilated = build_conv_layer(
            conv_cfg,
            in_channels,
            channels,
            3,
            padding=dilation,
            dilation=dilation,
            bias=False)
        self.conv_global = build_conv_layer(
            conv_cfg, in_channels, channels, 1, bias=False)
        self.norm_name, norm = build_norm_layer(norm_cfg, 3 * channels)
        self.add_module(self.norm_name, norm)
        self.projection = ConvModule(
            3 * channels,
            channels,
            1,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=None)

    @property
    def norm(self) -> nn.Module:
        """The norm layer after the concatenated branches."""
        return getattr(self, self.norm_name)

    def forward(self, x: Tensor) -> Tensor:
        """Apply the block.

        Args:
            x (Tensor): Features of shape (N, in_channels, H, W).

        Returns:
            Tensor: Features of shape (N, channels, H, W).
        """
        x = torch.cat([
            self.conv_local(x),
            self.conv_dilated(x),
            self.conv_global(local_average_pool(x, self.pooling_size)),
        ],
                      dim=1)
        return self.projection(self.norm(x))
