"""DeepLabV3+ semantic head on an HRNet body, as in Panoptic-DeepLab."""
from typing import Dict, Sequence, Union

import torch.nn as nn
from mmcv.cnn import DepthwiseSeparableConvModule
from torch import Tensor

from mmdet.registry import MODELS
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from .base_all_class_semantic_head import (OHEM_LOSS_SEG,
                                           BaseAllClassSemanticHead)
from .panoptic_deeplab_decoder import PanopticDeepLabDecoder


@MODELS.register_module()
class PanopticDeepLabSemanticHead(BaseAllClassSemanticHead):
    """Semantic segmentation section of the paper's network (Fig. 4, blue).

    The semantic branch of Panoptic-DeepLab on the HRNet body (Sec. 4.1: "a
    DeepLabV3+ module, connected to the HRNetV2-W48+ body as described in
    [Panoptic-DeepLab]"):

    - :class:`PanopticDeepLabDecoder`: ASPP on the 1/32 branch, then three
      stages that upsample x2, concatenate the 1/16, 1/8 and 1/4 branch
      projected by a 1x1 conv, and fuse with one depthwise-separable 5x5 conv;
    - the semantic head: one more depthwise-separable 5x5 conv
      (``decoder_channels`` -> ``head_channels``) and a 1x1 classifier with
      bias into all ``T + S`` classes (label order of mmdet's panoptic
      ``gt_sem_seg``, see :class:`BaseAllClassSemanticHead`).

    Logits come out at the stride of the finest branch (1/4). Every norm is
    ``norm_cfg``; the default ABN (BN + LeakyReLU 0.01, the paper's
    InPlace-ABN) carries the activation, so ``act_cfg`` defaults to None.

    Args:
        num_things_classes (int): Number of thing classes T.
        num_stuff_classes (int): Number of stuff classes S.
        in_channels (Sequence[int]): Channels of the body branches, finest
            first. Defaults to (48, 96, 192, 384) (HRNetV2-W48).
        decoder_channels (int): Channels of the decoder stages.
            Defaults to 256.
        head_channels (int): Channels of the head's separable conv.
            Defaults to 256.
        conv_cfg (dict, optional): Config of the conv layers.
        norm_cfg (dict): Config of every norm layer. Defaults to ABN.
        act_cfg (dict, optional): Activation after the norms; None with ABN.
            Defaults to None.
        pool_act_cfg (dict, optional): Activation of the ASPP image-pooling
            branch (no norm there). Defaults to LeakyReLU(0.01), the ABN
            activation.
        seg_rescale_factor (float): Scale of the ground truth at which the
            loss is computed (1.0: logits upsampled to the input size).
            Defaults to 1.0.
        loss_seg (dict): Config of the per-pixel loss. Defaults to
            :data:`OHEM_LOSS_SEG`, :class:`OHEMCrossEntropyLoss` keeping the
            hardest 25% of each image's pixels (Seamless ``ohem = .25``).
        init_cfg (dict or list[dict], optional): Initialization config.
        **decoder_kwargs: Further options of the
            :class:`PanopticDeepLabDecoder`, with its defaults:
            ``project_channels``, ``aspp_channels``, ``dilations``,
            ``pooling_size`` (e.g. training crop size / 32 for crop-trained
            models, so full-image inference pools the context a crop saw),
            ``aspp_dropout_ratio``, ``separable_aspp``, ``fuse_kernel_size``
            and ``align_corners``.
    """

    def __init__(self,
                 num_things_classes: int,
                 num_stuff_classes: int,
                 in_channels: Sequence[int] = (48, 96, 192, 384),
                 decoder_channels: int = 256,
                 head_channels: int = 256,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: ConfigType = dict(type='ABN'),
                 act_cfg: OptConfigType = None,
                 pool_act_cfg: OptConfigType = dict(
                     type='LeakyReLU', negative_slope=0.01),
                 seg_rescale_factor: float = 1.0,
                 loss_seg: ConfigType = OHEM_LOSS_SEG,
                 init_cfg: OptMultiConfig = None,
                 **decoder_kwargs) -> None:
        super().__init__(
            num_things_classes,
            num_stuff_classes,
            seg_rescale_factor=seg_rescale_factor,
            loss_seg=loss_seg,
            init_cfg=init_cfg)
        layer_cfgs = dict(
            conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.decoder = PanopticDeepLabDecoder(
            in_channels,
            decoder_channels=decoder_channels,
            pool_act_cfg=pool_act_cfg,
            **layer_cfgs,
            **decoder_kwargs)
        self.head_conv = DepthwiseSeparableConvModule(
            decoder_channels, head_channels, 5, padding=2, **layer_cfgs)
        self.conv_seg = nn.Conv2d(head_channels, self.num_classes, 1)

    def init_weights(self) -> None:
        """Initialize the decoder, then the classifier with N(0, 0.001)
        weights and zero bias (Panoptic-DeepLab's predictor init)."""
        super().init_weights()
        nn.init.normal_(self.conv_seg.weight, 0, 0.001)
        nn.init.zeros_(self.conv_seg.bias)

    def forward(self, x: Union[Tensor, Sequence[Tensor]]) -> Dict[str, Tensor]:
        """Decode the body branches and classify every pixel.

        Args:
            x (Sequence[Tensor]): Body branches, finest first (1/4, 1/8,
                1/16, 1/32 for HRNet).

        Returns:
            dict[str, Tensor]: ``seg_preds``, logits of shape
            (N, T + S, h, w), and ``seg_feats``, the decoder output of shape
            (N, decoder_channels, h, w), both at the resolution of ``x[0]``.
        """
        if isinstance(x, Tensor):
            x = [x]
        seg_feats = self.decoder(list(x))
        return dict(
            seg_preds=self.conv_seg(self.head_conv(seg_feats)),
            seg_feats=seg_feats)
