"""models.seg_heads of mmpanoptic_cabb."""
from .base_all_class_semantic_head import BaseAllClassSemanticHead
from .mini_dl_block import MiniDLBlock
from .mini_dl_semantic_head import MiniDLSemanticHead
from .panoptic_deeplab_decoder import PanopticDeepLabDecoder
from .panoptic_deeplab_semantic_head import PanopticDeepLabSemanticHead
from .seamless_fusion_head import SeamlessFusionHead, paste_instances

__all__ = [
    'BaseAllClassSemanticHead', 'MiniDLBlock', 'MiniDLSemanticHead',
    'PanopticDeepLabDecoder', 'PanopticDeepLabSemanticHead',
    'SeamlessFusionHead', 'paste_instances'
]
