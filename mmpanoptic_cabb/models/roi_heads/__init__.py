"""models.roi_heads of mmpanoptic_cabb."""
from .crop_aware_bbox_head import CropAwareShared2FCBBoxHead
from .crop_aware_roi_head import CropAwareRoIHead

__all__ = ['CropAwareRoIHead', 'CropAwareShared2FCBBoxHead']
