"""Shared2FC bbox head that feeds crop truncation flags to a CABBLoss."""
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmdet.models.roi_heads.bbox_heads import Shared2FCBBoxHead
from mmdet.models.task_modules.samplers import SamplingResult
from mmdet.registry import MODELS
from mmdet.utils import OptConfigType
from mmengine.config import ConfigDict
from torch import Tensor

from mmpanoptic_cabb.structures.box_sides import NUM_SIDES
from ..losses import bind_cabb_loss, get_pos_gt_truncated, is_cabb_loss


@MODELS.register_module()
class CropAwareShared2FCBBoxHead(Shared2FCBBoxHead):
    """:class:`Shared2FCBBoxHead` whose box loss may be a :class:`CABBLoss`.

    With a :class:`CABBLoss`, reads the ``pos_gt_truncated`` flags that
    :class:`TruncationAwareRandomSampler` attaches to each sampling result
    (the RoI head's ``train_cfg.sampler`` must be that sampler; any other
    raises), lays them out like the regression targets (positives first,
    per image) and calls the box loss with ``truncated=...``.  Use it in
    mmdet's :class:`StandardRoIHead`.  With any other box loss the head is
    identical to :class:`Shared2FCBBoxHead`.  Only ``reg_decoded_bbox=False``
    is supported together with :class:`CABBLoss`.

    The two shared FCs are mmdet's by default (Linear with bias, then ReLU).
    With ``fc_norm_cfg`` (e.g. ``dict(type='SyncABN')``) each one is a
    Linear without bias followed by that norm layer over the RoI batch
    (BatchNorm1d semantics) and no further activation, as in Seamless Scene
    Segmentation, where the norm is an ABN (BatchNorm + LeakyReLU 0.01) that
    supplies the activation.  The norms are ``shared_fc_norms[i]`` (BatchNorm
    state-dict keys); ``fc_cls`` / ``fc_reg`` are unchanged.  In training a
    norm needs more than one RoI per process (mmdet's samplers always draw
    negatives from the proposals, so this holds in practice); an empty RoI
    batch passes through without touching the running statistics.

    Args:
        *args: Positional arguments of :class:`Shared2FCBBoxHead`.
        fc_norm_cfg (dict, optional): Norm layer after each shared FC.
            Defaults to None (mmdet's Linear + bias + ReLU).
        **kwargs: Keyword arguments of :class:`Shared2FCBBoxHead`.
    """

    def __init__(self,
                 *args,
                 fc_norm_cfg: OptConfigType = None,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fc_norm_cfg = fc_norm_cfg
        if fc_norm_cfg is not None:
            # The norm supplies the bias and the activation.
            self.shared_fcs = nn.ModuleList(
                nn.Linear(fc.in_features, fc.out_features, bias=False)
                for fc in self.shared_fcs)
            self.shared_fc_norms = nn.ModuleList(
                build_norm_layer(fc_norm_cfg, fc.out_features)[1]
                for fc in self.shared_fcs)
            del self.relu
        bind_cabb_loss(self.loss_bbox, self.bbox_coder, self.reg_decoded_bbox)

    def forward(self, x: Tensor) -> Tuple[Optional[Tensor], Optional[Tensor]]:
        """Class scores and box deltas of the RoIs.

        Args:
            x (Tensor): (num_rois, in_channels, roi_feat_size,
                roi_feat_size) RoI features.

        Returns:
            tuple[Tensor | None, Tensor | None]: ``cls_score`` (num_rois,
            num_classes + 1) and ``bbox_pred`` (num_rois, 4 or 4 *
            num_classes).
        """
        if self.fc_norm_cfg is None:
            return super().forward(x)
        if self.with_avg_pool:
            x = self.avg_pool(x)
        x = x.flatten(1)
        for fc, norm in zip(self.shared_fcs, self.shared_fc_norms):
            x = norm(fc(x))
        cls_score = self.fc_cls(x) if self.with_cls else None
        bbox_pred = self.fc_reg(x) if self.with_reg else None
        return cls_score, bbox_pred

    @staticmethod
    def get_truncated_targets(sampling_results: List[SamplingResult],
                              concat: bool = True) -> List[Tensor]:
        """Truncation flags aligned with :meth:`BBoxHead.get_targets`.

        Args:
            sampling_results (list[SamplingResult]): Sampling results of the
                batch, carrying ``pos_gt_truncated`` (num_pos, 4).
            concat (bool): Whether to concatenate over images.

        Returns:
            Tensor | list[Tensor]: (num_samples, 4) bool per image (or
            concatenated): the positives' flags first, False for negatives.

        Raises:
            ValueError: If a sampling result has no ``pos_gt_truncated``.
        """
        truncated_list = []
        for res in sampling_results:
            num_pos, num_neg = res.pos_priors.size(0), res.neg_priors.size(0)
            device = res.pos_priors.device
            truncated = torch.zeros((num_pos + num_neg, NUM_SIDES),
                                    dtype=torch.bool,
                                    device=device)
            truncated[:num_pos] = get_pos_gt_truncated(res).to(
                device=device, dtype=torch.bool)
            truncated_list.append(truncated)
        return torch.cat(truncated_list, 0) if concat else truncated_list

    def loss_and_target(self,
                        cls_score: Tensor,
                        bbox_pred: Tensor,
                        rois: Tensor,
                        sampling_results: List[SamplingResult],
                        rcnn_train_cfg: ConfigDict,
                        concat: bool = True,
                        reduction_override: Optional[str] = None) -> dict:
        """Losses and targets; see :meth:`BBoxHead.loss_and_target`.

        Args:
            cls_score (Tensor): (num_rois, num_classes + 1) scores.
            bbox_pred (Tensor): (num_rois, 4 or 4 * num_classes) deltas.
            rois (Tensor): (num_rois, 5) RoIs (batch index first).
            sampling_results (list[SamplingResult]): Sampling results.
            rcnn_train_cfg (ConfigDict): ``train_cfg`` of the R-CNN.
            concat (bool): Whether to concatenate targets over images.
            reduction_override (str, optional): Overrides the reduction.

        Returns:
            dict: ``loss_bbox`` (dict of losses) and ``bbox_targets``.
        """
        if not (is_cabb_loss(self.loss_bbox) and concat):
            return super().loss_and_target(
                cls_score,
                bbox_pred,
                rois,
                sampling_results,
                rcnn_train_cfg,
                concat=concat,
                reduction_override=reduction_override)
        cls_reg_targets = self.get_targets(
            sampling_results, rcnn_train_cfg, concat=True)
        losses = self.loss(
            cls_score,
            bbox_pred,
            rois,
            *cls_reg_targets,
            reduction_override=reduction_override,
            truncated=self.get_truncated_targets(sampling_results))
        return dict(loss_bbox=losses, bbox_targets=cls_reg_targets)

    def loss(self,
             cls_score: Tensor,
             bbox_pred: Tensor,
             rois: Tensor,
             labels: Tensor,
             label_weights: Tensor,
             bbox_targets: Tensor,
             bbox_weights: Tensor,
             reduction_override: Optional[str] = None,
             truncated: Optional[Tensor] = None) -> dict:
        """Losses from predictions and targets; see :meth:`BBoxHead.loss`.

        Args:
            cls_score (Tensor): (num_rois, num_classes + 1) scores.
            bbox_pred (Tensor): (num_rois, 4 or 4 * num_classes) deltas.
            rois (Tensor): (num_rois, 5) RoIs.
            labels (Tensor): (num_rois,) labels.
            label_weights (Tensor): (num_rois,) label weights.
            bbox_targets (Tensor): (num_rois, 4) regression targets.
            bbox_weights (Tensor): (num_rois, 4) regression weights.
            reduction_override (str, optional): Overrides the reduction.
            truncated (Tensor, optional): (num_rois, 4) bool flags of the
                GT assigned to each RoI, for a :class:`CABBLoss`.

        Returns:
            dict[str, Tensor]: The loss components.
        """
        if truncated is None or not is_cabb_loss(self.loss_bbox):
            return super().loss(cls_score, bbox_pred, rois, labels,
                                label_weights, bbox_targets, bbox_weights,
                                reduction_override)
        # Classification terms from the parent; box term below.
        losses = super().loss(cls_score, None, rois, labels, label_weights,
                              bbox_targets, bbox_weights, reduction_override)
        if bbox_pred is None:
            return losses
        pos = (labels >= 0) & (labels < self.num_classes)
        if not pos.any():
            losses['loss_bbox'] = bbox_pred[pos].sum()
            return losses
        if self.reg_class_agnostic:
            pos_bbox_pred = bbox_pred.view(bbox_pred.size(0), -1)[pos]
        else:
            pos_bbox_pred = bbox_pred.view(
                bbox_pred.size(0), self.num_classes, -1)[pos, labels[pos]]
        losses['loss_bbox'] = self.loss_bbox(
            pos_bbox_pred,
            bbox_targets[pos],
            bbox_weights[pos],
            avg_factor=bbox_targets.size(0),
            reduction_override=reduction_override,
            truncated=truncated[pos])
        return losses
