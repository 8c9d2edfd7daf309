"""models.dense_heads of mmpanoptic_cabb."""
from .crop_aware_rpn_head import CropAwareRPNHead

__all__ = ['CropAwareRPNHead']
