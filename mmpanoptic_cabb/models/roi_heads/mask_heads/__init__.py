"""models.roi_heads.mask_heads of mmpanoptic_cabb."""
from .abn_fcn_mask_head import ABNFCNMaskHead

__all__ = ['ABNFCNMaskHead']
