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
