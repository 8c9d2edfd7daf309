"""Base of the semantic heads that predict every thing and stuff class."""
from abc import abstractmethod
from typing import Dict, List, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from mmdet.models.seg_heads.base_semantic_head import BaseSemanticHead
from mmdet.structures import SampleList
from mmdet.utils import ConfigType, OptMultiConfig

#: Default ``loss_seg`` of the semantic heads: OHEM keeping the hardest 25%
#: of each image's pixels (Seamless ``ohem = .25``).
OHEM_LOSS_SEG = dict(
    type='OHEMCrossEntropyLoss', ratio=0.25, ignore_index=255, loss_weight=1.0)


class BaseAllClassSemanticHead(BaseSemanticHead):
    """mmdet semantic head over all ``T + S`` classes, Seamless style.

    Subclasses implement ``forward`` (features -> ``dict(seg_preds=logits)``
    at some output stride) and pass the arguments below on to this base.
    This base provides:

    - the label space of mmdet's panoptic ``gt_sem_seg`` unchanged (things
      ``0..T-1``, stuff ``T..T+S-1``, 255 ignored), i.e. no thing merging as in
      ``PanopticFPNHead``;
    - ``loss``: logits resized to the ground truth, which is taken at
      ``seg_rescale_factor`` of the padded input (1.0: full resolution);
      ``loss_seg`` is called as ``loss_seg(logits, labels, weight=valid)``
      with logits (N, T + S, H, W), labels (N, H, W) and ``valid`` (N, H, W),
      1 inside each image's ``img_shape`` and 0 in the batch padding (which
      is labelled 255, so a cross entropy ignoring 255 is unaffected; a
      per-image loss such as :class:`OHEMCrossEntropyLoss` counts only the
      image's own pixels);
    - ``predict``: logits upsampled to the padded input, cropped to
      ``img_shape`` and, with ``rescale``, resized to ``ori_shape`` — so they
      align with the instance masks of the RoI head in both modes (mmdet's
      ``BaseSemanticHead.predict`` leaves them at the padded size when
      ``rescale=False``).

    Args:
        num_things_classes (int): Number of thing classes T.
        num_stuff_classes (int): Number of stuff classes S.
        seg_rescale_factor (float): Scale of the ground truth at which the
            loss is computed. Defaults to 1.0.
        loss_seg (dict): Config of the per-pixel classification loss.
            Defaults to :data:`OHEM_LOSS_SEG`, :class:`OHEMCrossEntropyLoss`
            keeping the hardest 25% of each image's pixels (Seamless
            ``ohem = .25``).
        init_cfg (dict or list[dict], optional): Initialization config.
    """

    def __init__(self,
                 num_things_classes: int,
                 num_stuff_classes: int,
                 seg_rescale_factor: float = 1.0,
                 loss_seg: ConfigType = OHEM_LOSS_SEG,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            num_classes=num_things_classes + num_stuff_classes,
            seg_rescale_factor=seg_rescale_factor,
            loss_seg=loss_seg,
            init_cfg=init_cfg)
        self.num_things_classes = num_things_classes
        self.num_stuff_classes = num_stuff_classes

    @abstractmethod
    def forward(self, x: Union[Tensor, Sequence[Tensor]]) -> Dict[str, Tensor]:
        """Features -> ``dict(seg_preds=logits)`` of shape (N, T + S, h, w)."""

    def loss(self, x: Union[Tensor, Tuple[Tensor]],
             batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """Per-pixel loss against the ``gt_sem_seg`` of the data samples.

        Args:
            x (Tensor or Sequence[Tensor]): Input features of the head.
            batch_data_samples (list[:obj:`DetDataSample`]): Samples carrying
                ``gt_sem_seg.sem_seg`` of shape (1, H, W), padded to the batch
                input shape with 255 (``pad_seg=True`` in the data
                preprocessor).

        Returns:
            dict[str, Tensor]: ``loss_seg``.
        """
        seg_logits = self(x)['seg_preds']
        gt_sem_seg = torch.stack([
            sample.gt_sem_seg.sem_seg for sample in batch_data_samples
        ]).float()
        valid = torch.zeros_like(gt_sem_seg)
        for mask, sample in zip(valid, batch_data_samples):
            h, w = sample.metainfo.get('img_shape', mask.shape[-2:])[:2]
            mask[:, :h, :w] = 1
        if self.seg_rescale_factor != 1.0:
            gt_sem_seg = F.interpolate(
                gt_sem_seg,
                scale_factor=self.seg_rescale_factor,
                mode='nearest')
            valid = F.interpolate(
                valid, scale_factor=self.seg_rescale_factor, mode='nearest')
        gt_sem_seg = gt_sem_seg.squeeze(1).long()
        if seg_logits.shape[-2:] != gt_sem_seg.shape[-2:]:
            seg_logits = F.interpolate(
                seg_logits,
                size=gt_sem_seg.shape[-2:],
                mode='bilinear',
                align_corners=False)
        return dict(
            loss_seg=self.loss_seg(
                seg_logits, gt_sem_seg, weight=valid.squeeze(1)))

    def predict(self,
                x: Union[Tensor, Tuple[Tensor]],
                batch_img_metas: List[dict],
                rescale: bool = False) -> List[Tensor]:
        """Per-image logits at image size.

        Args:
            x (Tensor or Sequence[Tensor]): Input features of the head.
            batch_img_metas (list[dict]): Meta information of each image
                (``batch_input_shape``, ``img_shape``, ``ori_shape``).
            rescale (bool): Resize to ``ori_shape`` (True) or keep
                ``img_shape`` (False). Defaults to False.

        Returns:
            list[Tensor]: Logits of shape (T + S, h, w) per image.
        """
        seg_logits = F.interpolate(
            self(x)['seg_preds'],
            size=batch_img_metas[0]['batch_input_shape'],
            mode='bilinear',
            align_corners=False)
        results = []
        for logits, img_meta in zip(seg_logits, batch_img_metas):
            h, w = img_meta['img_shape'][:2]
            logits = logits[:, :h, :w]
            if rescale and tuple(img_meta['ori_shape'][:2]) != (h, w):
                logits = F.interpolate(
                    logits[None],
                    size=img_meta['ori_shape'][:2],
                    mode='bilinear',
                    align_corners=False)[0]
            results.append(logits)
        return results
