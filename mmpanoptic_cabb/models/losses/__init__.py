"""models.losses of mmpanoptic_cabb."""
from .cabb_loss import CABBLoss
from .cabb_solver import cabb_targets
from .ohem_cross_entropy_loss import (OHEMCrossEntropyLoss,
                                      ohem_cross_entropy)
from .truncation import bind_cabb_loss, get_pos_gt_truncated, is_cabb_loss

__all__ = [
    'CABBLoss', 'OHEMCrossEntropyLoss', 'cabb_targets', 'ohem_cross_entropy',
    'bind_cabb_loss', 'get_pos_gt_truncated', 'is_cabb_loss'
]
