"""DeepLabV3+ semantic head on an HRNet body, as in Panoptic-DeepLab."""
from typing import Dict, Optional, Sequence, Union

import torch.nn as nn
from mmcv.cnn import DepthwiseSeparableConvModule
from torch import Tensor

from mmdet.registry import MODELS
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from .base_all_class_semantic_head import BaseAllClassSemanticHead
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
        project_channels (Sequence[int]): Widths of the skip projections in
            the same finest-first order (1/4, 1/8, 1/16). Defaults to
            (32, 64, 128).
        decoder_channels (int): Channels of the decoder stages.
            Defaults to 256.
        aspp_channels (int): Channels of the ASPP. Defaults to 256.
        head_channels (int): Channels of the head's separable conv.
            Defaults to 256.
        dilations (Sequence[int]): Dilations of the ASPP 3x3 branches.
            Defaults to (3, 6, 9).
        pooling_size (int or Sequence[int], optional): Window of the ASPP
            image pooling in cells of the 1/32 branch, e.g. training crop
            size / 32 for crop-trained models, so full-image inference pools
            the context a crop saw; None for global pooling. Defaults to None.
        aspp_dropout_ratio (float): Dropout after the ASPP projection.
            Defaults to 0.1 (detectron2; the original Panoptic-DeepLab uses
            0.5).
        separable_aspp (bool): Depthwise-separable ASPP 3x3 branches
            (detectron2's ``dsconv``). Defaults to False (original).
        align_corners (bool): ``align_corners`` of the decoder upsamplings.
            Defaults to False.
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
            :class:`OHEMCrossEntropyLoss` keeping the hardest 25% of each
            image's pixels (Seamless ``ohem = .25``).
        init_cfg (dict or list[dict], optional): Initialization config.
    """

    def __init__(self,
                 num_things_classes: int,
                 num_stuff_classes: int,
                 in_channels: Sequence[int] = (48, 96, 192, 384),
                 project_channels: Sequence[int] = (32, 64, 128),
                 decoder_channels: int = 256,
                 aspp_channels: int = 256,
                 head_channels: int = 256,
                 dilations: Sequence[int] = (3, 6, 9),
                 pooling_size: Optional[Union[int, Sequence[int]]] = None,
                 aspp_dropout_ratio: float = 0.1,
                 separable_aspp: bool = False,
                 align_corners: bool = False,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: ConfigType = dict(type='ABN'),
                 act_cfg: OptConfigType = None,
                 pool_act_cfg: OptConfigType = dict(
                     type='LeakyReLU', negative_slope=0.01),
                 seg_rescale_factor: float = 1.0,
                 loss_seg: ConfigType = dict(
                     type='OHEMCrossEntropyLoss',
                     ratio=0.25,
                     ignore_index=255,
                     loss_weight=1.0),
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            num_things_classes=num_things_classes,
            num_stuff_classes=num_stuff_classes,
            seg_rescale_factor=seg_rescale_factor,
            loss_seg=loss_seg,
            init_cfg=init_cfg)
        self.decoder = PanopticDeepLabDecoder(
            in_channels,
            project_channels=project_channels,
            decoder_channels=decoder_channels,
            aspp_channels=aspp_channels,
            dilations=dilations,
            pooling_size=pooling_size,
            aspp_dropout_ratio=aspp_dropout_ratio,
            separable_aspp=separable_aspp,
            align_corners=align_corners,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
            pool_act_cfg=pool_act_cfg)
        self.head_conv = DepthwiseSeparableConvModule(
            decoder_channels,
            head_channels,
            5,
            padding=2,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
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
