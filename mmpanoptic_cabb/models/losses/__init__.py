"""models.losses of mmpanoptic_cabb."""
from .cabb_loss import CABBLoss
from .cabb_solver import cabb_targets
from .truncation import bind_cabb_loss, get_pos_gt_truncated, is_cabb_loss

__all__ = [
    'CABBLoss', 'cabb_targets', 'bind_cabb_loss', 'get_pos_gt_truncated',
    'is_cabb_loss'
]
