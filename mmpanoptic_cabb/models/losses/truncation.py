"""Helpers shared by the crop-aware heads to route truncation flags."""
import torch
from mmengine.structures import InstanceData
from torch import Tensor, nn

from .cabb_loss import CABBLoss


def gt_truncated_flags(gt_instances: InstanceData) -> Tensor:
    """Return the (num_gts, 4) bool truncation flags of ``gt_instances``.

    Args:
        gt_instances (InstanceData): Ground truth of one image; its optional
            ``truncated`` field holds flags (left, top, right, bottom).

    Returns:
        Tensor: ``gt_instances.truncated`` as bool, or all False when the
        field is absent.
    """
    bboxes = gt_instances.bboxes
    device = bboxes.device
    num_gts = len(gt_instances)
    if 'truncated' not in gt_instances:
        return torch.zeros((num_gts, 4), dtype=torch.bool, device=device)
    flags = torch.as_tensor(gt_instances.truncated, device=device)
    return flags.to(torch.bool).reshape(num_gts, 4)


def is_cabb_loss(loss: nn.Module) -> bool:
    """Whether ``loss`` consumes truncation flags (a :class:`CABBLoss`)."""
    return isinstance(loss, CABBLoss)


def bind_cabb_loss(loss: nn.Module, bbox_coder, reg_decoded_bbox: bool) -> None:
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
