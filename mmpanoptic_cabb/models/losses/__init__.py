"""models.losses of mmpanoptic_cabb."""
from .cabb_loss import CABBLoss
from .cabb_solver import cabb_targets
from .truncation import gt_truncated_flags, is_cabb_loss

__all__ = ['CABBLoss', 'cabb_targets', 'gt_truncated_flags', 'is_cabb_loss']
