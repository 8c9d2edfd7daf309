"""RPN head that feeds crop truncation flags to a :class:`CABBLoss`."""
from typing import List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmdet.models.dense_heads import RPNHead
from mmdet.models.task_modules.prior_generators import anchor_inside_flags
from mmdet.models.utils import images_to_levels, multi_apply, unmap
from mmdet.registry import MODELS
from mmdet.structures.bbox import BaseBoxes, cat_boxes
from mmdet.utils import InstanceList, OptConfigType, OptInstanceList
from mmengine.structures import InstanceData
from torch import Tensor

from mmpanoptic_cabb.structures.box_sides import NUM_SIDES
from ..losses import bind_cabb_loss, get_pos_gt_truncated, is_cabb_loss


@MODELS.register_module()
class CropAwareRPNHead(RPNHead):
    """:class:`RPNHead` whose box loss may be a crop-aware :class:`CABBLoss`.

    With a :class:`CABBLoss`, every positive anchor receives the
    ``truncated`` flags (left, top, right, bottom) of the GT box it is
    assigned to, read from ``SamplingResult.pos_gt_truncated`` (set by
    :class:`TruncationAwareRandomSampler`, which ``train_cfg.sampler`` must
    then be; any other sampler raises), and the box loss is called with
    ``truncated=...``.  With any other box loss the head is identical to
    :class:`RPNHead`.  Only ``reg_decoded_bbox=False`` (delta regression) is
    supported together with :class:`CABBLoss`.

    The hidden 3x3 conv(s) are mmdet's by default (conv with bias, then
    ReLU).  With ``norm_cfg`` (e.g. ``dict(type='SyncABN')``) each one is a
    ``ConvModule`` without bias followed by that norm layer and no further
    activation, as in Seamless Scene Segmentation, where the norm is an ABN
    (BatchNorm + LeakyReLU 0.01) that supplies the activation; no ReLU is
    applied in :meth:`forward_single` then.  The ``rpn_cls`` / ``rpn_reg``
    predictors are unchanged.

    Args:
        *args: Positional arguments of :class:`RPNHead`.
        norm_cfg (dict, optional): Norm layer after each hidden conv.
            Defaults to None (mmdet's conv + bias + ReLU).
        **kwargs: Keyword arguments of :class:`RPNHead`.
    """

    def __init__(self,
                 *args,
                 norm_cfg: OptConfigType = None,
                 **kwargs) -> None:
        # Read by _init_layers, which AnchorHead.__init__ calls.
        self.norm_cfg = norm_cfg
        super().__init__(*args, **kwargs)
        bind_cabb_loss(self.loss_bbox, self.bbox_coder, self.reg_decoded_bbox)

    def _init_layers(self) -> None:
        """Layers of :class:`RPNHead`; with ``norm_cfg`` the hidden convs
        are bias-free ``ConvModule`` s with that norm and no activation."""
        super()._init_layers()
        if self.norm_cfg is None:
            return
        rpn_convs = [
            ConvModule(
                self.in_channels if i == 0 else self.feat_channels,
                self.feat_channels,
                3,
                padding=1,
                norm_cfg=self.norm_cfg,
                act_cfg=None) for i in range(self.num_convs)
        ]
        self.rpn_conv = (
            rpn_convs[0] if self.num_convs == 1 else nn.Sequential(*rpn_convs))

    def forward_single(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        """Scores and deltas of one level.

        Args:
            x (Tensor): (N, in_channels, H, W) features of the level.

        Returns:
            tuple[Tensor, Tensor]: ``cls_score`` (N, num_base_priors *
            cls_out_channels, H, W) and ``bbox_pred`` (N, num_base_priors *
            4, H, W).
        """
        if self.norm_cfg is None:
            return super().forward_single(x)
        x = self.rpn_conv(x)
        return self.rpn_cls(x), self.rpn_reg(x)

    def _get_targets_single(self,
                            flat_anchors: Union[Tensor, BaseBoxes],
                            valid_flags: Tensor,
                            gt_instances: InstanceData,
                            img_meta: dict,
                            gt_instances_ignore: Optional[InstanceData] = None,
                            unmap_outputs: bool = True) -> tuple:
        """Targets of one image and, for a CABBLoss, the truncation flags of
        each anchor.

        Args:
            flat_anchors (Tensor | BaseBoxes): (num_anchors, 4) anchors.
            valid_flags (Tensor): (num_anchors,) valid flags.
            gt_instances (InstanceData): GT ``bboxes``, ``labels`` and,
                optionally, ``truncated``.
            img_meta (dict): Meta information of the image.
            gt_instances_ignore (InstanceData, optional): Ignored instances.
            unmap_outputs (bool): Whether to map outputs back to all anchors.

        Returns:
            tuple: The outputs of :meth:`AnchorHead._get_targets_single`;
            with a CABBLoss followed by ``truncated`` (num_anchors, 4) bool:
            the flags of the assigned GT for positive anchors, False
            elsewhere.
        """
        targets = super()._get_targets_single(
            flat_anchors,
            valid_flags,
            gt_instances,
            img_meta,
            gt_instances_ignore=gt_instances_ignore,
            unmap_outputs=unmap_outputs)
        if not is_cabb_loss(self.loss_bbox):
            return targets
        (labels, label_weights, bbox_targets, bbox_weights, pos_inds, neg_inds,
         sampling_result) = targets
        # pos_inds index the anchors inside the image, as in the parent.
        inside_flags = anchor_inside_flags(flat_anchors, valid_flags,
                                           img_meta['img_shape'][:2],
                                           self.train_cfg['allowed_border'])
        truncated = torch.zeros((int(inside_flags.sum()), NUM_SIDES),
                                dtype=torch.bool,
                                device=bbox_weights.device)
        truncated[pos_inds] = get_pos_gt_truncated(sampling_result).to(
            truncated.device)
        if unmap_outputs:
            truncated = unmap(truncated, flat_anchors.size(0), inside_flags)
        return targets + (truncated, )

    def loss_by_feat_single(self,
                            cls_score: Tensor,
                            bbox_pred: Tensor,
                            anchors: Tensor,
                            labels: Tensor,
                            label_weights: Tensor,
                            bbox_targets: Tensor,
                            bbox_weights: Tensor,
                            avg_factor: int,
                            truncated: Optional[Tensor] = None) -> tuple:
        """Loss of one feature level, with truncation flags for CABB.

        Args:
            cls_score (Tensor): (N, num_anchors * C, H, W) scores.
            bbox_pred (Tensor): (N, num_anchors * 4, H, W) deltas.
            anchors (Tensor): (N, num_total_anchors, 4) anchors.
            labels (Tensor): (N, num_total_anchors) labels.
            label_weights (Tensor): (N, num_total_anchors) label weights.
            bbox_targets (Tensor): (N, num_total_anchors, 4) targets.
            bbox_weights (Tensor): (N, num_total_anchors, 4) weights.
            avg_factor (int): Average factor of the losses.
            truncated (Tensor, optional): (N, num_total_anchors, 4) bool
                flags of the GT assigned to each anchor.

        Returns:
            tuple: ``loss_cls`` and ``loss_bbox`` of the level.
        """
        if truncated is None or not is_cabb_loss(self.loss_bbox):
            return super().loss_by_feat_single(cls_score, bbox_pred, anchors,
                                               labels, label_weights,
                                               bbox_targets, bbox_weights,
                                               avg_factor)
        loss_cls = self.loss_cls(
            cls_score.permute(0, 2, 3, 1).reshape(-1, self.cls_out_channels),
            labels.reshape(-1),
            label_weights.reshape(-1),
            avg_factor=avg_factor)
        target_dim = bbox_targets.size(-1)
        loss_bbox = self.loss_bbox(
            bbox_pred.permute(0, 2, 3, 1).reshape(-1, target_dim),
            bbox_targets.reshape(-1, target_dim),
            bbox_weights.reshape(-1, target_dim),
            avg_factor=avg_factor,
            truncated=truncated.reshape(-1, NUM_SIDES))
        return loss_cls, loss_bbox

    def loss_by_feat(self,
                     cls_scores: List[Tensor],
                     bbox_preds: List[Tensor],
                     batch_gt_instances: InstanceList,
                     batch_img_metas: List[dict],
                     batch_gt_instances_ignore: OptInstanceList = None) \
            -> dict:
        """RPN losses; with a CABBLoss, per-anchor truncation flags go to
        the box loss.

        Args:
            cls_scores (list[Tensor]): Scores of each level,
                (N, num_anchors * C, H, W).
            bbox_preds (list[Tensor]): Deltas of each level,
                (N, num_anchors * 4, H, W).
            batch_gt_instances (list[InstanceData]): GT of each image
                (``bboxes``, ``labels``, optional ``truncated``).
            batch_img_metas (list[dict]): Meta information of each image.
            batch_gt_instances_ignore (list[InstanceData], optional): Ignored
                instances of each image.

        Returns:
            dict[str, list[Tensor]]: ``loss_rpn_cls`` and ``loss_rpn_bbox``
            per level.
        """
        if not is_cabb_loss(self.loss_bbox):
            return super().loss_by_feat(
                cls_scores,
                bbox_preds,
                batch_gt_instances,
                batch_img_metas,
                batch_gt_instances_ignore=batch_gt_instances_ignore)
        featmap_sizes = [featmap.size()[-2:] for featmap in cls_scores]
        assert len(featmap_sizes) == self.prior_generator.num_levels
        device = cls_scores[0].device
        anchor_list, valid_flag_list = self.get_anchors(
            featmap_sizes, batch_img_metas, device=device)
        (labels_list, label_weights_list, bbox_targets_list, bbox_weights_list,
         avg_factor, truncated_list) = self.get_targets(
             anchor_list,
             valid_flag_list,
             batch_gt_instances,
             batch_img_metas,
             batch_gt_instances_ignore=batch_gt_instances_ignore)
        num_level_anchors = [anchors.size(0) for anchors in anchor_list[0]]
        all_anchor_list = images_to_levels(
            [cat_boxes(anchors) for anchors in anchor_list], num_level_anchors)
        losses_cls, losses_bbox = multi_apply(
            self.loss_by_feat_single, cls_scores, bbox_preds, all_anchor_list,
            labels_list, label_weights_list, bbox_targets_list,
            bbox_weights_list, [avg_factor] * len(truncated_list),
            truncated_list)
        return dict(loss_rpn_cls=losses_cls, loss_rpn_bbox=losses_bbox)
