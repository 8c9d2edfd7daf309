"""Helpers shared by the crop-aware heads to route truncation flags."""
from mmdet.models.task_modules.samplers import SamplingResult
from torch import Tensor, nn

from .cabb_loss import CABBLoss


def get_pos_gt_truncated(sampling_result: SamplingResult) -> Tensor:
    """The ``pos_gt_truncated`` flags of a sampling result, checked.

    Args:
        sampling_result (SamplingResult): Result of the head's sampler.

    Returns:
        Tensor: (num_pos, 4) bool flags (left, top, right, bottom) of the
        GT box of each positive.

    Raises:
        ValueError: If the sampler did not attach ``pos_gt_truncated``:
            a :class:`CABBLoss` would silently train with all-False flags.
    """
    truncated = getattr(sampling_result, 'pos_gt_truncated', None)
    if truncated is None:
        raise ValueError(
            'CABBLoss needs the truncation flags of the positives '
            '(SamplingResult.pos_gt_truncated), which the sampler did not '
            "set: use dict(type='TruncationAwareRandomSampler', ...) as the "
            "head's sampler (train_cfg.rpn.sampler and train_cfg.rcnn.sampler "
            'of a two-stage detector).')
    return truncated


def is_cabb_loss(loss: nn.Module) -> bool:
    """Whether ``loss`` consumes truncation flags (a :class:`CABBLoss`)."""
    return isinstance(loss, CABBLoss)


def bind_cabb_loss(loss: nn.Module, bbox_coder,
                   reg_decoded_bbox: bool) -> None:
    """Give a head's :class:`CABBLoss` the statistics of its box coder.

    Called by every crop-aware head at construction; does nothing when
    ``loss`` is not a CABBLoss.

    Args:
        loss (nn.Module): The head's ``loss_bbox``.
        bbox_coder: The head's box coder (``means`` / ``stds``).
        reg_decoded_bbox (bool): The head's setting; CABBLoss needs deltas.

    Raises:
        ValueError: If ``loss`` is a CABBLoss and ``reg_decoded_bbox`` is
            True.
    """
    if not is_cabb_loss(loss):
        return
    if reg_decoded_bbox:
        raise ValueError('CABBLoss regresses normalised deltas; set '
                         'reg_decoded_bbox=False.')
    loss.bind_coder_stats(bbox_coder.means, bbox_coder.stds)
