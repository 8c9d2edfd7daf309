"""models.seg_heads of mmpanoptic_cabb."""
from .base_all_class_semantic_head import BaseAllClassSemanticHead
from .deeplabv3plus_semantic_head import DeepLabV3PlusSemanticHead
from .mini_deeplab_block import MiniDeepLabBlock, local_average_pool
from .mini_dl_semantic_head import MiniDLSemanticHead
from .seamless_fusion_head import SeamlessFusionHead, paste_instances

__all__ = [
    'BaseAllClassSemanticHead', 'DeepLabV3PlusSemanticHead',
    'MiniDeepLabBlock', 'MiniDLSemanticHead', 'SeamlessFusionHead',
    'local_average_pool', 'paste_instances'
]
