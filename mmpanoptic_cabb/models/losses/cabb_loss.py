"""Crop-aware bounding box (CABB) regression loss."""
from typing import Optional, Sequence, Tuple

import torch
from mmdet.models.losses import SmoothL1Loss
from mmdet.registry import MODELS
from torch import Tensor

from .cabb_solver import cabb_targets


@MODELS.register_module()
class CABBLoss(SmoothL1Loss):
    """SmoothL1 box loss against the closest crop-aware box (Eq. 2).

    Drop-in replacement for mmdet's ``SmoothL1Loss`` on normalised
    ``DeltaXYWHBBoxCoder`` deltas (``reg_decoded_bbox=False``).  Given the
    ``truncated`` flags of each target box (columns left, top, right,
    bottom), the target is first replaced, without gradient, by the box of
    the CABB set closest to the prediction in the SmoothL1 sense
    (:func:`cabb_targets`), and SmoothL1 is then applied at that target.  By
    the envelope theorem (Prop. 1 of the paper) this gives the exact
    gradient of the CABB loss.  With ``truncated`` None or all False the
    loss, and its gradient, equal ``SmoothL1Loss`` exactly.

    ``means`` / ``stds`` must equal the box coder's ``target_means`` /
    ``target_stds``, since the inner problem lives in raw box coordinates.
    Left as None, the crop-aware heads of this package fill them in from
    their coder (standalone, None means no normalisation).

    Args:
        beta (float): SmoothL1 threshold. Defaults to 1.0.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
            Defaults to ``'mean'``.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        means (Sequence[float], optional): Coder ``target_means``.
        stds (Sequence[float], optional): Coder ``target_stds``.
    """

    def __init__(self,
                 beta: float = 1.0,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0,
                 means: Optional[Sequence[float]] = None,
                 stds: Optional[Sequence[float]] = None) -> None:
        super().__init__(
            beta=beta, reduction=reduction, loss_weight=loss_weight)
        self.means = None if means is None else tuple(map(float, means))
        self.stds = None if stds is None else tuple(map(float, stds))

    def bind_coder_stats(self, means: Sequence[float],
                         stds: Sequence[float]) -> None:
        """Adopt a box coder's normalisation; check it if already set.

        Args:
            means (Sequence[float]): The coder's ``target_means``.
            stds (Sequence[float]): The coder's ``target_stds``.

        Raises:
            ValueError: if ``means``/``stds`` were configured explicitly and
                differ from the coder's.
        """
        for name, value in (('means', means), ('stds', stds)):
            value = tuple(map(float, value))
            current = getattr(self, name)
            if current is None:
                setattr(self, name, value)
            elif current != value:
                raise ValueError(
                    f'CABBLoss {name}={current} differ from the bbox coder '
                    f'target_{name}={value}; leave them unset (None) or '
                    'make them equal.')

    @property
    def coder_stats(self) -> Tuple[Tuple[float, ...], Tuple[float, ...]]:
        """tuple: ``(means, stds)`` in use (identity when unset)."""
        means = self.means if self.means is not None else (0., ) * 4
        stds = self.stds if self.stds is not None else (1., ) * 4
        return means, stds

    def forward(self,
                pred: Tensor,
                target: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None,
                truncated: Optional[Tensor] = None,
                **kwargs) -> Tensor:
        """Compute the CABB loss.

        Args:
            pred (Tensor): (N, 4) predicted normalised deltas.
            target (Tensor): (N, 4) normalised deltas of the cropped GT.
            weight (Tensor, optional): Element-wise weights, (N, 4) or (N,).
                Rows whose weights are all zero are not solved (their
                target does not matter).  Within a row the weights are
                expected to be equal, as in mmdet's heads.
            avg_factor (float, optional): Average factor of the loss.
            reduction_override (str, optional): Overrides ``reduction``.
            truncated (Tensor, optional): (N, 4) bool flags (left, top,
                right, bottom) of the target boxes cut by the crop.

        Returns:
            Tensor: The loss.
        """
        if truncated is not None and target.numel() > 0:
            truncated = truncated.to(device=target.device, dtype=torch.bool)
            if weight is not None:
                row_weight = weight.reshape(weight.size(0), -1)
                truncated = truncated & (row_weight > 0).any(1, keepdim=True)
            means, stds = self.coder_stats
            target = cabb_targets(pred.detach(), target, truncated, self.beta,
                                  means, stds)
        return super().forward(
            pred,
            target,
            weight=weight,
            avg_factor=avg_factor,
            reduction_override=reduction_override,
            **kwargs)
