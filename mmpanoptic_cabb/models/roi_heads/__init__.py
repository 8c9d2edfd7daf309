"""models.roi_heads of mmpanoptic_cabb."""
from .crop_aware_bbox_head import CropAwareShared2FCBBoxHead

__all__ = ['CropAwareShared2FCBBoxHead']
