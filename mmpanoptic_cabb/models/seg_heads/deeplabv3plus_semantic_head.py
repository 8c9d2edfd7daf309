"""DeepLabV3+ semantic head on the network body, behind mmdet's semantic-head
interface."""
from typing import Dict, Optional, Sequence, Union

import mmseg.models  # noqa: F401  (registers the ``mmseg.*`` heads)
from torch import Tensor

from mmdet.registry import MODELS
from mmdet.utils import ConfigType, OptMultiConfig
from ..layers.local_avg_pool import LocalAvgPool2d
from .base_all_class_semantic_head import BaseAllClassSemanticHead


@MODELS.register_module()
class DeepLabV3PlusSemanticHead(BaseAllClassSemanticHead):
    """Semantic segmentation section of the paper's network (Fig. 4, blue).

    An adapter that runs mmseg's DeepLabV3+ decoder
    (``mmseg.DepthwiseSeparableASPPHead``) on the multi-resolution features of
    the body and exposes mmdet's ``BaseSemanticHead`` interface
    (``loss`` -> ``dict(loss_seg=...)``, ``predict`` -> per-image logits at
    image size), so that it plugs into a two-stage panoptic segmentor.

    Connection to an HRNet body, as in Panoptic-DeepLab: the body returns its
    four branches ``(1/4, 1/8, 1/16, 1/32)``. The ASPP runs on the branch
    selected by ``decode_head.in_index`` (the 1/32 branch in our configs: the
    lowest resolution and widest context) and the DeepLabV3+ decoder fuses the
    upsampled ASPP output with the low-level feature, which mmseg's head
    always takes from ``inputs[0]``: the 1/4 branch of HRNet
    (``decode_head.c1_in_channels`` = its width). Logits come out at 1/4 of
    the input.

    All ``T + S`` classes are predicted in the label order of mmdet's panoptic
    ``gt_sem_seg`` (see :class:`BaseAllClassSemanticHead`).

    Args:
        num_things_classes (int): Number of thing classes T.
        num_stuff_classes (int): Number of stuff classes S.
        decode_head (dict): Config of the mmseg decode head; ``type`` defaults
            to ``'mmseg.DepthwiseSeparableASPPHead'`` and ``num_classes`` is
            set to ``T + S`` here. For ABN set ``norm_cfg=dict(type='ABN')``
            (or ``'SyncABN'``) and ``act_cfg=None``.
        pooling_size (int or Sequence[int], optional): Window, in cells of
            the ASPP input, of the ASPP image pooling. None keeps mmseg's
            global pooling. Crop-trained models set it to crop size / output
            stride, so that full-image inference pools the context a training
            crop saw (Panoptic-DeepLab's setting); on inputs no larger than
            the window it equals global pooling. Defaults to None.
        seg_rescale_factor (float): Scale of the ground truth at which the
            loss is computed (1.0: logits upsampled to the input size).
            Defaults to 1.0.
        loss_seg (dict): Config of the per-pixel loss. Defaults to a cross
            entropy ignoring 255, averaged over the non-ignored pixels.
        init_cfg (dict or list[dict], optional): Initialization config.
    """

    def __init__(self,
                 num_things_classes: int,
                 num_stuff_classes: int,
                 decode_head: ConfigType,
                 pooling_size: Optional[Union[int, Sequence[int]]] = None,
                 seg_rescale_factor: float = 1.0,
                 loss_seg: ConfigType = dict(
                     type='CrossEntropyLoss',
                     ignore_index=255,
                     avg_non_ignore=True,
                     loss_weight=1.0),
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            num_things_classes=num_things_classes,
            num_stuff_classes=num_stuff_classes,
            seg_rescale_factor=seg_rescale_factor,
            loss_seg=loss_seg,
            init_cfg=init_cfg)
        decode_head = dict(decode_head)
        decode_head.setdefault('type', 'mmseg.DepthwiseSeparableASPPHead')
        decode_head['num_classes'] = self.num_classes
        self.decode_head = MODELS.build(decode_head)
        if pooling_size is not None:
            # mmseg's image pooling is Sequential(AdaptiveAvgPool2d(1), conv)
            self.decode_head.image_pool[0] = LocalAvgPool2d(pooling_size)

    def forward(self, x: Union[Tensor, Sequence[Tensor]]) -> Dict[str, Tensor]:
        """Run the DeepLabV3+ decoder.

        Args:
            x (Tensor or Sequence[Tensor]): Body features, highest resolution
                first.

        Returns:
            dict[str, Tensor]: ``seg_preds``, logits of shape
            (N, T + S, h, w) at the resolution of ``x[0]``.
        """
        if isinstance(x, Tensor):
            x = [x]
        return dict(seg_preds=self.decode_head(list(x)))
