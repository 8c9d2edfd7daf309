"""models.roi_heads of mmpanoptic_cabb."""
from .crop_aware_bbox_head import CropAwareShared2FCBBoxHead
from .mask_heads import ABNFCNMaskHead

__all__ = ['CropAwareShared2FCBBoxHead', 'ABNFCNMaskHead']
