"""Semantic head of Seamless Scene Segmentation (Mini-DL per FPN level)."""
from typing import Dict, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import ModuleList
from torch import Tensor

from mmdet.registry import MODELS
from mmdet.utils import ConfigType, OptConfigType
from .base_all_class_semantic_head import BaseAllClassSemanticHead
from .mini_dl_block import MiniDLBlock


@MODELS.register_module()
class MiniDLSemanticHead(BaseAllClassSemanticHead):
    """Semantic head of the Seamless baseline (Porzi et al., CVPR 2019).

    Each of ``num_levels`` pyramid levels starting at ``start_level`` goes
    through its own :class:`MiniDLBlock`; the outputs are upsampled
    (bilinear) to the resolution of the first used level (1/4 for an FPN
    starting at stride 4), concatenated and classified by a 1x1 conv into all
    ``T + S`` classes (label order of mmdet's panoptic ``gt_sem_seg``).

    Args:
        num_things_classes (int): Number of thing classes T.
        num_stuff_classes (int): Number of stuff classes S.
        in_channels (int): Channels of the pyramid levels.
        channels (int): Channels of each Mini-DL block. Defaults to 128.
        start_level (int): First pyramid level used. Defaults to 0.
        num_levels (int): Number of levels used. Defaults to 4.
        dilation (int): Dilation of the wide-context branches. Defaults to 6.
        pooling_size (int or tuple[int, int]): Window of the global-context
            pooling at every level. Defaults to (64, 64).
        conv_cfg (dict, optional): Config of the conv layers.
        norm_cfg (dict): Config of the norm layers (ABN).
        **kwargs: ``seg_rescale_factor``, ``loss_seg`` (OHEM by default) and
            ``init_cfg`` of :class:`BaseAllClassSemanticHead`.
    """

    def __init__(self,
                 num_things_classes: int,
                 num_stuff_classes: int,
                 in_channels: int,
                 channels: int = 128,
                 start_level: int = 0,
                 num_levels: int = 4,
                 dilation: int = 6,
                 pooling_size: Union[int, Sequence[int]] = (64, 64),
                 conv_cfg: OptConfigType = None,
                 norm_cfg: ConfigType = dict(type='ABN'),
                 **kwargs) -> None:
        super().__init__(num_things_classes, num_stuff_classes, **kwargs)
        self.start_level = start_level
        self.num_levels = num_levels
        self.level_blocks = ModuleList([
            MiniDLBlock(
                in_channels,
                channels,
                dilation=dilation,
                pooling_size=pooling_size,
                conv_cfg=conv_cfg,
                norm_cfg=norm_cfg) for _ in range(num_levels)
        ])
        self.conv_logits = nn.Conv2d(channels * num_levels, self.num_classes,
                                     1)

    def init_weights(self) -> None:
        """Initialize the blocks, then the classifier with small weights."""
        super().init_weights()
        nn.init.normal_(self.conv_logits.weight, 0, 0.01)
        nn.init.zeros_(self.conv_logits.bias)

    def forward(self, x: Sequence[Tensor]) -> Dict[str, Tensor]:
        """Classify the concatenated Mini-DL outputs of the pyramid levels.

        Args:
            x (Sequence[Tensor]): Pyramid features, finest level first.

        Returns:
            dict[str, Tensor]: ``seg_preds`` of shape (N, T + S, h, w) and
            ``seg_feats`` (the concatenated block outputs), both at the
            resolution of level ``start_level``.
        """
        levels = x[self.start_level:self.start_level + self.num_levels]
        assert len(levels) == self.num_levels, (
            f'expected {self.num_levels} levels from {self.start_level}, '
            f'got {len(levels)}')
        size = levels[0].shape[-2:]
        feats = []
        for level, block in zip(levels, self.level_blocks):
            feat = block(level)
            if feat.shape[-2:] != size:
                feat = F.interpolate(
                    feat, size=size, mode='bilinear', align_corners=False)
            feats.append(feat)
        seg_feats = torch.cat(feats, dim=1)
        return dict(seg_preds=self.conv_logits(seg_feats), seg_feats=seg_feats)
