"""Per-image hard pixel mining cross entropy (Seamless Scene Segmentation)."""
import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmdet.models.losses.utils import weight_reduce_loss
from mmdet.registry import MODELS


def ohem_cross_entropy(pred: Tensor,
                       label: Tensor,
                       ratio: float = 0.25,
                       weight: Optional[Tensor] = None,
                       ignore_index: int = 255,
                       reduction: str = 'mean',
                       avg_factor: Optional[float] = None) -> Tensor:
    """Cross entropy averaged over the hardest pixels of each image.

    For every image ``n``:

    1. per-pixel cross entropy; pixels labelled ``ignore_index`` get loss 0
       but stay in the population;
    2. ``k_n = ceil(P_n * ratio)`` with ``P_n`` the number of pixels of the
       image (``H * W``, or the pixels of nonzero ``weight``);
    3. the image's loss is the mean of its ``k_n`` largest pixel losses.

    The image losses are then reduced over the batch (``reduction``: their
    mean by default). This is the semantic loss of Seamless Scene
    Segmentation (``SemanticSegLoss`` with ``ohem``, seamseg
    ``seamseg/algos/semantic_seg.py``). At ``ratio=1`` it is, per image, the
    plain mean over all pixels with ignored pixels counted as 0, i.e. mmdet's
    ``CrossEntropyLoss(ignore_index=255, avg_non_ignore=False)`` on one image
    (not the mean over the labelled pixels only). Panoptic-DeepLab's
    ``DeepLabCE`` differs: it ranks the pixels of the whole batch jointly.

    Args:
        pred (Tensor): Logits of shape (N, C, *), e.g. (N, C, H, W); the
            first dimension indexes images.
        label (Tensor): Class indices of shape (N, *).
        ratio (float): Fraction of each image's pixels kept, in (0, 1].
            Defaults to 0.25.
        weight (Tensor, optional): Per-pixel weights of shape (N, *),
            multiplied into the pixel losses before ranking. Pixels of weight
            0 (e.g. batch padding outside the image) do not count in ``P_n``.
            Defaults to None (all pixels, weight 1).
        ignore_index (int): Label of void pixels. Defaults to 255.
        reduction (str): Reduction of the image losses over the batch:
            ``'mean'``, ``'sum'`` or ``'none'`` (shape (N,)).
            Defaults to ``'mean'``.
        avg_factor (float, optional): Divisor of the summed image losses
            instead of N (``reduction='mean'`` only). Defaults to None.

    Returns:
        Tensor: The loss (a scalar unless ``reduction='none'``).
    """
    if not 0 < ratio <= 1:
        raise ValueError(f'ratio must be in (0, 1], got {ratio}')
    if pred.dim() < 2 or label.shape != pred.shape[:1] + pred.shape[2:]:
        raise ValueError(f'expected pred (N, C, *) and label (N, *), got '
                         f'{tuple(pred.shape)} and {tuple(label.shape)}')
    pixel_loss = F.cross_entropy(
        pred, label.long(), reduction='none', ignore_index=ignore_index)
    pixel_loss = pixel_loss.reshape(pred.shape[0], -1)
    if weight is None:
        counts = [pixel_loss.shape[1]] * pixel_loss.shape[0]
    else:
        weight = weight.reshape(pixel_loss.shape).to(pixel_loss.dtype)
        pixel_loss = pixel_loss * weight
        counts = (weight != 0).sum(dim=1).tolist()
    image_losses = []
    for losses, count in zip(pixel_loss, counts):
        top_k = int(math.ceil(count * ratio))
        if top_k == 0:  # an image without pixels contributes 0
            image_losses.append(losses.sum() * 0)
            continue
        if top_k < losses.numel():
            losses = losses.topk(top_k, sorted=False).values
        image_losses.append(losses.sum() / top_k)
    return weight_reduce_loss(
        torch.stack(image_losses), reduction=reduction, avg_factor=avg_factor)


@MODELS.register_module()
class OHEMCrossEntropyLoss(nn.Module):
    """Hard pixel mining cross entropy, per image (:func:`ohem_cross_entropy`).

    Fits the ``loss_seg`` slot of
    :class:`~mmpanoptic_cabb.models.seg_heads.BaseAllClassSemanticHead`,
    which calls it with logits (N, C, H, W) already upsampled to the ground
    truth, labels (N, H, W) and, as ``weight``, a mask that is 1 inside each
    image and 0 in the batch padding (so ``P_n`` is the image's own area).

    Args:
        ratio (float): Fraction of each image's pixels kept, in (0, 1].
            Defaults to 0.25 (Seamless ``ohem = .25``). 1.0 keeps all pixels:
            the mean over all of them, void counted as 0.
        ignore_index (int): Label of void pixels. Defaults to 255.
        reduction (str): ``'mean'``, ``'sum'`` or ``'none'`` over images.
            Defaults to ``'mean'``.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    def __init__(self,
                 ratio: float = 0.25,
                 ignore_index: int = 255,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if not 0 < ratio <= 1:
            raise ValueError(f'ratio must be in (0, 1], got {ratio}')
        self.ratio = ratio
        self.ignore_index = ignore_index
        self.reduction = reduction
        self.loss_weight = loss_weight

    def forward(self,
                cls_score: Tensor,
                label: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None,
                ignore_index: Optional[int] = None) -> Tensor:
        """Compute the loss.

        Args:
            cls_score (Tensor): Logits of shape (N, C, *).
            label (Tensor): Class indices of shape (N, *).
            weight (Tensor, optional): Per-pixel weights of shape (N, *);
                pixels of weight 0 are outside the image. Defaults to None.
            avg_factor (float, optional): Divisor of the summed image losses.
                Defaults to None.
            reduction_override (str, optional): Overrides ``reduction``.
            ignore_index (int, optional): Overrides ``ignore_index``.

        Returns:
            Tensor: The weighted loss.
        """
        assert reduction_override in (None, 'none', 'mean', 'sum')
        return self.loss_weight * ohem_cross_entropy(
            cls_score,
            label,
            ratio=self.ratio,
            weight=weight,
            ignore_index=(self.ignore_index
                          if ignore_index is None else ignore_index),
            reduction=reduction_override or self.reduction,
            avg_factor=avg_factor)

    def extra_repr(self) -> str:
        return (f'ratio={self.ratio}, ignore_index={self.ignore_index}, '
                f'loss_weight={self.loss_weight}')
