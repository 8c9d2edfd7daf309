"""RoI head that hands GT truncation flags to its sampling results."""
from typing import List, Optional, Tuple

from mmdet.models.roi_heads import StandardRoIHead
from mmdet.models.task_modules.samplers import SamplingResult
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.utils import InstanceList
from torch import Tensor

from ..losses import gt_truncated_flags


@MODELS.register_module()
class CropAwareRoIHead(StandardRoIHead):
    """:class:`StandardRoIHead` that routes crop truncation flags.

    Before the bbox head computes its loss, every sampling result gets a
    ``pos_gt_truncated`` attribute: the ``truncated`` flags (left, top,
    right, bottom) of the GT box assigned to each positive proposal, all
    False where ``gt_instances`` has no ``truncated`` field.  A crop-aware
    bbox head (e.g. :class:`CropAwareShared2FCBBoxHead`) passes them on to a
    :class:`CABBLoss`; other bbox heads ignore the attribute, so the head
    then behaves exactly like :class:`StandardRoIHead`.
    """

    def loss(self, x: Tuple[Tensor], rpn_results_list: InstanceList,
             batch_data_samples: List[DetDataSample]) -> dict:
        """Losses of the RoI head; see :meth:`StandardRoIHead.loss`.

        Args:
            x (tuple[Tensor]): Multi-level image features.
            rpn_results_list (list[InstanceData]): Proposals of each image.
            batch_data_samples (list[DetDataSample]): Data samples with
                ``gt_instances`` (optionally carrying ``truncated``).

        Returns:
            dict[str, Tensor]: The loss components.
        """
        self._batch_gt_truncated = [
            gt_truncated_flags(sample.gt_instances)
            for sample in batch_data_samples
        ]
        try:
            return super().loss(x, rpn_results_list, batch_data_samples)
        finally:
            self._batch_gt_truncated = None

    def bbox_loss(self, x: Tuple[Tensor],
                  sampling_results: List[SamplingResult]) -> dict:
        """Attach ``pos_gt_truncated`` to the sampling results, then run
        :meth:`StandardRoIHead.bbox_loss`.

        Args:
            x (tuple[Tensor]): Multi-level image features.
            sampling_results (list[SamplingResult]): Sampling results.

        Returns:
            dict: See :meth:`StandardRoIHead.bbox_loss`.
        """
        batch_gt_truncated: Optional[List[Tensor]] = getattr(
            self, '_batch_gt_truncated', None)
        if batch_gt_truncated is not None:
            for res, gt_truncated in zip(sampling_results, batch_gt_truncated):
                res.pos_gt_truncated = gt_truncated.to(
                    res.pos_assigned_gt_inds.device)[res.pos_assigned_gt_inds]
        return super().bbox_loss(x, sampling_results)
