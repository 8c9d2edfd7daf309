"""Panoptic segmentor of the paper (Fig. 4) and of the Seamless baseline."""
import copy
from typing import List, Optional, Sequence, Tuple

import torch
from mmengine.structures import InstanceData, PixelData
from torch import Tensor

from mmdet.models.detectors import TwoStagePanopticSegmentor
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from .full_res_predict import predict_full_res

_SEMANTIC_INPUTS = ('body', 'neck')


def _set_count(cfg: Optional[dict], key: str, value: Optional[int],
               where: str) -> None:
    """Set ``cfg[key] = value`` in place; refuse a different stated value."""
    if cfg is None or value is None:
        return
    stated = cfg.get(key)
    if stated is not None and stated != value:
        raise ValueError(f'{where}.{key}={stated} contradicts the model\'s '
                         f'class count {value}; state it once, on the model.')
    cfg[key] = value


def with_class_counts(roi_head: OptConfigType, semantic_head: OptConfigType,
                      panoptic_fusion_head: OptConfigType,
                      num_things_classes: Optional[int],
                      num_stuff_classes: Optional[int]) -> tuple:
    """Copies of the head configs with the network's class counts filled in.

    Args:
        roi_head (dict, optional): RoI head config (``bbox_head`` and
            ``mask_head`` take ``num_classes`` = things).
        semantic_head (dict, optional): Semantic head config.
        panoptic_fusion_head (dict, optional): Fusion head config.
        num_things_classes (int, optional): Thing classes; None keeps the
            heads' own values.
        num_stuff_classes (int, optional): Stuff classes; likewise.

    Returns:
        tuple: ``(roi_head, semantic_head, panoptic_fusion_head)`` copies.

    Raises:
        ValueError: If a head states a count different from the model's.
    """
    roi_head, semantic_head, panoptic_fusion_head = (
        copy.deepcopy(cfg)
        for cfg in (roi_head, semantic_head, panoptic_fusion_head))
    if roi_head is not None:
        for name in ('bbox_head', 'mask_head'):
            _set_count(roi_head.get(name), 'num_classes', num_things_classes,
                       f'roi_head.{name}')
    for cfg, where in ((semantic_head, 'semantic_head'),
                       (panoptic_fusion_head, 'panoptic_fusion_head')):
        _set_count(cfg, 'num_things_classes', num_things_classes, where)
        _set_count(cfg, 'num_stuff_classes', num_stuff_classes, where)
    return roi_head, semantic_head, panoptic_fusion_head


@MODELS.register_module()
class SeamlessPanopticSegmentor(TwoStagePanopticSegmentor):
    """Two-stage panoptic segmentor whose semantic head may read the body.

    Blocks (Fig. 4 of the paper): the body (``backbone``, e.g. HRNetV2-W48),
    the instance section (``neck`` = FPN over the body, then ``rpn_head`` and
    ``roi_head`` with box and mask heads), the semantic section
    (``semantic_head``) and the panoptic fusion (``panoptic_fusion_head``).

    Unlike mmdet's ``PanopticFPN``, where every head reads the FPN, the
    semantic head reads the features selected by ``semantic_head_in``:
    ``'body'`` (the paper's network: DeepLabV3+ on the HRNet branches) or
    ``'neck'`` (the Seamless baseline: Mini-DL on the FPN levels).

    ``predict`` fills, per image, ``pred_panoptic_seg`` (fused panoptic ids,
    mmdet's ``label + id * INSTANCE_OFFSET`` format), ``pred_instances`` (the
    RoI head's detections with masks, for mAP) and ``pred_sem_seg`` (argmax of
    the semantic logits over the ``T + S`` classes, for mIoU). With the
    fusion head's ``bounded_memory`` (``test_cfg.panoptic``, on by default)
    it does so without full-size logits or mask stacks (see
    :mod:`.full_res_predict`): same maps, ``pred_instances.masks`` as COCO
    RLEs unless ``instance_masks='bitmap'``.

    Args:
        backbone (dict): Config of the body.
        neck (dict): Config of the FPN of the instance section.
        rpn_head (dict): Config of the region proposal head.
        roi_head (dict): Config of the RoI (box + mask) head.
        train_cfg (dict): Training config (``rpn``, ``rpn_proposal``,
            ``rcnn``).
        test_cfg (dict): Test config (``rpn``, ``rcnn``, ``panoptic``).
        data_preprocessor (dict, optional): Config of the data preprocessor.
        init_cfg (dict or list[dict], optional): Initialization config.
        semantic_head (dict): Config of the semantic head.
        panoptic_fusion_head (dict): Config of the panoptic fusion head.
        semantic_head_in (str): ``'body'`` or ``'neck'``. Defaults to
            ``'body'``.
        num_things_classes (int, optional): Number of thing classes, stated
            once for the whole network: filled into
            ``roi_head.bbox_head.num_classes``,
            ``roi_head.mask_head.num_classes`` and the ``num_things_classes``
            of ``semantic_head`` and ``panoptic_fusion_head``.
        num_stuff_classes (int, optional): Number of stuff classes, filled
            into ``semantic_head`` and ``panoptic_fusion_head``.
    """

    def __init__(self,
                 backbone: ConfigType,
                 neck: OptConfigType = None,
                 rpn_head: OptConfigType = None,
                 roi_head: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None,
                 semantic_head: OptConfigType = None,
                 panoptic_fusion_head: OptConfigType = None,
                 semantic_head_in: str = 'body',
                 num_things_classes: Optional[int] = None,
                 num_stuff_classes: Optional[int] = None) -> None:
        roi_head, semantic_head, panoptic_fusion_head = with_class_counts(
            roi_head, semantic_head, panoptic_fusion_head,
            num_things_classes, num_stuff_classes)
        super().__init__(
            backbone=backbone,
            neck=neck,
            rpn_head=rpn_head,
            roi_head=roi_head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg,
            semantic_head=semantic_head,
            panoptic_fusion_head=panoptic_fusion_head)
        if semantic_head_in not in _SEMANTIC_INPUTS:
            raise ValueError(f'semantic_head_in must be one of '
                             f'{_SEMANTIC_INPUTS}, got {semantic_head_in!r}')
        self.semantic_head_in = semantic_head_in

    def extract_feat(self, batch_inputs: Tensor) -> Tuple[Tensor]:
        """Features of the instance section (the FPN levels).

        Args:
            batch_inputs (Tensor): Images of shape (N, C, H, W).

        Returns:
            tuple[Tensor]: FPN levels, finest first.
        """
        return self.extract_body_and_pyramid(batch_inputs)[1]

    def extract_body_and_pyramid(
            self,
            batch_inputs: Tensor) -> Tuple[Sequence[Tensor], Tuple[Tensor]]:
        """Run the body once and the FPN on it.

        Args:
            batch_inputs (Tensor): Images of shape (N, C, H, W).

        Returns:
            tuple: ``(body_feats, pyramid_feats)``, each finest first.
        """
        body_feats = self.backbone(batch_inputs)
        return body_feats, tuple(self.neck(body_feats))

    def _semantic_feats(self, body_feats: Sequence[Tensor],
                        pyramid_feats: Tuple[Tensor]) -> Sequence[Tensor]:
        """The features the semantic head reads."""
        return body_feats if self.semantic_head_in == 'body' else pyramid_feats

    def loss(self, batch_inputs: Tensor,
             batch_data_samples: SampleList) -> dict:
        """Losses of the RPN, the RoI head and the semantic head.

        Args:
            batch_inputs (Tensor): Images of shape (N, C, H, W).
            batch_data_samples (list[:obj:`DetDataSample`]): Samples with
                ``gt_instances`` (boxes, labels, masks) and ``gt_sem_seg``.

        Returns:
            dict[str, Tensor]: ``loss_rpn_cls``, ``loss_rpn_bbox``,
            ``loss_cls``, ``acc``, ``loss_bbox``, ``loss_mask``, ``loss_seg``.
        """
        body_feats, pyramid_feats = self.extract_body_and_pyramid(batch_inputs)
        losses = dict()

        if self.with_rpn:
            rpn_losses, rpn_results_list = self._rpn_loss_and_proposals(
                pyramid_feats, batch_data_samples)
            losses.update(rpn_losses)
        else:
            rpn_results_list = [
                sample.proposals for sample in batch_data_samples
            ]
        losses.update(
            self.roi_head.loss(pyramid_feats, rpn_results_list,
                               batch_data_samples))
        losses.update(
            self.semantic_head.loss(
                self._semantic_feats(body_feats, pyramid_feats),
                batch_data_samples))
        return losses

    def _rpn_loss_and_proposals(
            self, pyramid_feats: Tuple[Tensor],
            batch_data_samples: SampleList) -> Tuple[dict, list]:
        """RPN losses (keys prefixed ``rpn_``) and training proposals.

        The RPN is class agnostic: it sees a copy of the samples whose labels
        are all 0; the other ground-truth fields (e.g. the truncation flags
        ``gt_instances.truncated``) are kept.
        """
        proposal_cfg = self.train_cfg.get('rpn_proposal', self.test_cfg.rpn)
        rpn_data_samples = copy.deepcopy(batch_data_samples)
        for data_sample in rpn_data_samples:
            data_sample.gt_instances.labels = torch.zeros_like(
                data_sample.gt_instances.labels)
        rpn_losses, rpn_results_list = self.rpn_head.loss_and_predict(
            pyramid_feats, rpn_data_samples, proposal_cfg=proposal_cfg)
        for key in list(rpn_losses):
            if 'loss' in key and 'rpn' not in key:
                rpn_losses[f'rpn_{key}'] = rpn_losses.pop(key)
        return rpn_losses, rpn_results_list

    def predict(self,
                batch_inputs: Tensor,
                batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        """Panoptic, instance and semantic predictions.

        Args:
            batch_inputs (Tensor): Images of shape (N, C, H, W).
            batch_data_samples (list[:obj:`DetDataSample`]): Samples with the
                image meta information.
            rescale (bool): Predict at ``ori_shape`` (True) or at
                ``img_shape`` (False). Defaults to True.

        Returns:
            list[:obj:`DetDataSample`]: The samples with ``pred_panoptic_seg``
            (``sem_seg`` (1, H, W) int32), ``pred_instances`` (``bboxes``,
            ``labels``, ``scores``, ``masks``: (N, H, W) bool, or a list of
            COCO RLEs in the bounded mode) and ``pred_sem_seg`` (``sem_seg``
            (1, H, W) int64 class labels).
        """
        if self.panoptic_fusion_head.bounded_memory:
            return predict_full_res(self, batch_inputs, batch_data_samples,
                                    rescale)
        batch_img_metas = [sample.metainfo for sample in batch_data_samples]
        body_feats, pyramid_feats = self.extract_body_and_pyramid(batch_inputs)

        if batch_data_samples[0].get('proposals', None) is None:
            rpn_results_list = self.rpn_head.predict(
                pyramid_feats, batch_data_samples, rescale=False)
        else:
            rpn_results_list = [
                sample.proposals for sample in batch_data_samples
            ]
        instances_list = self.roi_head.predict(
            pyramid_feats,
            rpn_results_list,
            batch_data_samples,
            rescale=rescale)
        seg_logits_list = self.semantic_head.predict(
            self._semantic_feats(body_feats, pyramid_feats), batch_img_metas,
            rescale)
        panoptic_list = self.panoptic_fusion_head.predict(
            instances_list, seg_logits_list)
        return self.add_all_preds_to_datasample(batch_data_samples,
                                                panoptic_list, instances_list,
                                                seg_logits_list)

    def _forward(self, batch_inputs: Tensor,
                 batch_data_samples: SampleList) -> tuple:
        """Raw head outputs, without post-processing (``tensor`` mode).

        Args:
            batch_inputs (Tensor): Images of shape (N, C, H, W).
            batch_data_samples (list[:obj:`DetDataSample`]): Samples with the
                image meta information.

        Returns:
            tuple: ``(rpn_outs, roi_outs, seg_logits)``: the RPN's
            ``(cls_scores, bbox_preds)`` per level (empty when the samples
            carry proposals), the RoI head's forward outputs on the
            proposals, and the semantic logits.
        """
        body_feats, pyramid_feats = self.extract_body_and_pyramid(batch_inputs)
        rpn_outs = ()
        if batch_data_samples[0].get('proposals', None) is None:
            rpn_outs = self.rpn_head(pyramid_feats)
            rpn_results_list = self.rpn_head.predict_by_feat(
                *rpn_outs,
                batch_img_metas=[s.metainfo for s in batch_data_samples],
                rescale=False)
        else:
            rpn_results_list = [
                sample.proposals for sample in batch_data_samples
            ]
        roi_outs = self.roi_head.forward(pyramid_feats, rpn_results_list,
                                         batch_data_samples)
        seg_logits = self.semantic_head(
            self._semantic_feats(body_feats, pyramid_feats))['seg_preds']
        return rpn_outs, roi_outs, seg_logits

    def add_all_preds_to_datasample(
            self, data_samples: SampleList, panoptic_list: List[PixelData],
            instances_list: List[InstanceData],
            seg_logits_list: List[Tensor]) -> SampleList:
        """Store the three kinds of predictions in the data samples.

        Args:
            data_samples (list[:obj:`DetDataSample`]): Samples to fill.
            panoptic_list (list[:obj:`PixelData`]): Fused panoptic maps.
            instances_list (list[:obj:`InstanceData`]): RoI head detections.
            seg_logits_list (list[Tensor]): Semantic logits (T + S, H, W).

        Returns:
            list[:obj:`DetDataSample`]: ``data_samples``, filled.
        """
        for sample, panoptic, instances, seg_logits in zip(
                data_samples, panoptic_list, instances_list, seg_logits_list):
            sample.pred_panoptic_seg = panoptic
            sample.pred_instances = instances
            sample.pred_sem_seg = PixelData(
                sem_seg=seg_logits.argmax(dim=0, keepdim=True))
        return data_samples
