"""Random sampler that pairs each positive with its GT truncation flags."""
import torch
from mmdet.models.task_modules.assigners import AssignResult
from mmdet.models.task_modules.samplers import RandomSampler, SamplingResult
from mmdet.registry import TASK_UTILS
from mmengine.structures import InstanceData
from torch import Tensor

from mmpanoptic_cabb.structures.box_sides import NUM_SIDES


def get_gt_truncated(gt_instances: InstanceData) -> Tensor:
    """The (num_gts, 4) bool truncation flags of ``gt_instances``.

    Args:
        gt_instances (InstanceData): Ground truth of one image; its optional
            ``truncated`` field holds flags (left, top, right, bottom).

    Returns:
        Tensor: ``gt_instances.truncated`` as bool on the device of
        ``gt_instances.bboxes``, or all False when the field is absent.
    """
    device = gt_instances.bboxes.device
    num_gts = len(gt_instances.bboxes)
    if 'truncated' not in gt_instances:
        return torch.zeros((num_gts, NUM_SIDES),
                           dtype=torch.bool,
                           device=device)
    truncated = torch.as_tensor(gt_instances.truncated, device=device)
    return truncated.to(torch.bool).reshape(num_gts, NUM_SIDES)


def attach_pos_gt_truncated(sampling_result: SamplingResult,
                            gt_instances: InstanceData) -> SamplingResult:
    """Set ``sampling_result.pos_gt_truncated`` from ``gt_instances``.

    The flags are gathered exactly as mmdet's :class:`SamplingResult`
    gathers ``pos_gt_bboxes``: ``gt_truncated[pos_assigned_gt_inds]``.

    Args:
        sampling_result (SamplingResult): Result of any mmdet sampler.
        gt_instances (InstanceData): The ground truth it was sampled from.

    Returns:
        SamplingResult: ``sampling_result``, with ``pos_gt_truncated``
        (num_pos, 4) bool (left, top, right, bottom).
    """
    pos_assigned_gt_inds = sampling_result.pos_assigned_gt_inds.long()
    gt_truncated = get_gt_truncated(gt_instances).to(
        pos_assigned_gt_inds.device)
    sampling_result.pos_gt_truncated = gt_truncated[pos_assigned_gt_inds]
    return sampling_result


@TASK_UTILS.register_module()
class TruncationAwareRandomSampler(RandomSampler):
    """mmdet's ``RandomSampler`` whose results carry ``pos_gt_truncated``.

    Samples exactly like :class:`RandomSampler` (same positives, negatives
    and random draws). Next to mmdet's ``pos_gt_bboxes`` the sampling
    result gets ``pos_gt_truncated``: the crop truncation flags (left, top,
    right, bottom) of the GT box each positive is assigned to, read from
    ``gt_instances.truncated`` (all False where the field is absent). The
    crop-aware heads hand them to a :class:`CABBLoss`, which needs this
    sampler in the head's ``train_cfg`` (``train_cfg.rpn.sampler`` and
    ``train_cfg.rcnn.sampler`` of a two-stage detector).

    Args:
        num (int): Number of samples.
        pos_fraction (float): Fraction of positive samples.
        neg_pos_ub (int): Upper bound of negatives per positive; -1 for
            none. Defaults to -1.
        add_gt_as_proposals (bool): Whether to add the GT boxes as
            proposals. Defaults to True.
        **kwargs: Passed to :class:`RandomSampler` (e.g. ``rng``,
            ``context``).
    """

    def sample(self, assign_result: AssignResult, pred_instances: InstanceData,
               gt_instances: InstanceData, **kwargs) -> SamplingResult:
        """Sample like :meth:`RandomSampler.sample`, then attach
        ``pos_gt_truncated``.

        Args:
            assign_result (AssignResult): Assigning results.
            pred_instances (InstanceData): Predictions with ``priors``.
            gt_instances (InstanceData): Ground truth with ``bboxes``,
                ``labels`` and, optionally, ``truncated``.

        Returns:
            SamplingResult: mmdet's sampling result plus
            ``pos_gt_truncated`` (num_pos, 4) bool.
        """
        sampling_result = super().sample(assign_result, pred_instances,
                                         gt_instances, **kwargs)
        return attach_pos_gt_truncated(sampling_result, gt_instances)
