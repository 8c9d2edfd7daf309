"""Panoptic-DeepLab's semantic decoder on a multi-resolution body."""
from typing import Sequence

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule
from mmengine.model import BaseModule, ModuleList
from torch import Tensor

from mmdet.utils import OptConfigType, OptMultiConfig
from ..layers.aspp import ASPP


class PanopticDeepLabDecoder(BaseModule):
    """DeepLabV3+ decoder with one skip per body branch (Panoptic-DeepLab).

    The input is the list of body branches, finest first, e.g. the HRNet
    branches at strides (4, 8, 16, 32). The coarsest branch goes through an
    :class:`ASPP`. Then, from coarse to fine, each stage

    1. upsamples the running features (bilinear) to the size of the next
       finer branch,
    2. concatenates them with that branch projected by a 1x1 conv + norm +
       act to its ``project_channels`` entry (order: [upsampled, skip]),
    3. fuses the concatenation with one depthwise-separable 5x5 conv
       (depthwise 5x5 + norm + act, pointwise 1x1 + norm + act) to
       ``decoder_channels``.

    With four branches there are three stages and the output is at the
    stride of the finest branch (1/4 for HRNet).

    Args:
        in_channels (Sequence[int]): Channels of the body branches, finest
            first, e.g. (48, 96, 192, 384) for HRNetV2-W48.
        project_channels (Sequence[int]): Width of the 1x1 projection of
            every branch but the coarsest, in the same finest-first order,
            i.e. (1/4, 1/8, 1/16) for HRNet. Defaults to (32, 64, 128)
            (Panoptic-DeepLab's 1/16 -> 128, 1/8 -> 64, 1/4 -> 32).
        decoder_channels (int): Output channels of every fusion stage.
            Defaults to 256.
        aspp_channels (int): Channels of the ASPP. Defaults to 256.
        aspp_dropout_ratio (float): Dropout after the ASPP projection.
            Defaults to 0.1.
        separable_aspp (bool): Depthwise-separable ASPP 3x3 branches.
            Defaults to False.
        fuse_kernel_size (int): Kernel of the depthwise conv of each fusion.
            Defaults to 5.
        align_corners (bool): ``align_corners`` of the upsamplings (and of
            the ASPP's). Defaults to False.
        conv_cfg (dict, optional): Config of the conv layers.
        norm_cfg (dict, optional): Config of every norm layer.
            Defaults to BN.
        act_cfg (dict, optional): Activation after every norm; None when the
            norm is an ABN. Defaults to ReLU.
        init_cfg (dict or list[dict], optional): Initialization config.
        **aspp_kwargs: Further options of the :class:`ASPP`, with its
            defaults: ``dilations`` of the 3x3 branches, ``pooling_size``
            (window of the image pooling in cells of the coarsest branch;
            None for global pooling) and ``pool_act_cfg`` (activation of the
            image-pooling branch, which has no norm).
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 project_channels: Sequence[int] = (32, 64, 128),
                 decoder_channels: int = 256,
                 aspp_channels: int = 256,
                 aspp_dropout_ratio: float = 0.1,
                 separable_aspp: bool = False,
                 fuse_kernel_size: int = 5,
                 align_corners: bool = False,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: OptConfigType = dict(type='BN'),
                 act_cfg: OptConfigType = dict(type='ReLU'),
                 init_cfg: OptMultiConfig = None,
                 **aspp_kwargs) -> None:
        super().__init__(init_cfg=init_cfg)
        in_channels = tuple(in_channels)
        project_channels = tuple(project_channels)
        if len(in_channels) < 2:
            raise ValueError('in_channels needs at least two branches, got '
                             f'{in_channels}')
        if len(project_channels) != len(in_channels) - 1:
            raise ValueError(
                f'project_channels needs one width per skip branch '
                f'({len(in_channels) - 1} for in_channels={in_channels}), '
                f'got {project_channels}')
        self.in_channels = in_channels
        self.project_channels = project_channels
        self.decoder_channels = decoder_channels
        self.align_corners = align_corners
        layer_cfgs = dict(
            conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.aspp = ASPP(
            in_channels[-1],
            aspp_channels,
            dropout_ratio=aspp_dropout_ratio,
            separable=separable_aspp,
            align_corners=align_corners,
            **layer_cfgs,
            **aspp_kwargs)
        # Stages run coarse to fine; index i here is branch len - 2 - i.
        self.projections = ModuleList()
        self.fusions = ModuleList()
        running = aspp_channels
        for branch in reversed(range(len(in_channels) - 1)):
            self.projections.append(
                ConvModule(in_channels[branch], project_channels[branch], 1,
                           **layer_cfgs))
            self.fusions.append(
                DepthwiseSeparableConvModule(
                    running + project_channels[branch],
                    decoder_channels,
                    fuse_kernel_size,
                    padding=fuse_kernel_size // 2,
                    **layer_cfgs))
            running = decoder_channels

    def forward(self, x: Sequence[Tensor]) -> Tensor:
        """Decode the body branches.

        Args:
            x (Sequence[Tensor]): Branch features, finest first, with the
                channels of ``in_channels``.

        Returns:
            Tensor: Features of shape (N, decoder_channels, h, w) at the
            resolution of ``x[0]``.
        """
        if len(x) != len(self.in_channels):
            raise ValueError(f'expected {len(self.in_channels)} branches, '
                             f'got {len(x)}')
        out = self.aspp(x[-1])
        skips = reversed(x[:-1])
        for skip, project, fuse in zip(skips, self.projections, self.fusions):
            # Each intermediate is rebound as soon as the next exists, so
            # that at the finest stride (the largest maps) only the current
            # step's input and output are alive.
            out = F.interpolate(
                out,
                size=skip.shape[-2:],
                mode='bilinear',
                align_corners=self.align_corners)
            out = torch.cat([out, project(skip)], dim=1)
            out = fuse.depthwise_conv(out)
            out = fuse.pointwise_conv(out)
        return out
