"""Models of mmpanoptic_cabb; importing registers them in mmdet's MODELS
(samplers in mmdet's TASK_UTILS)."""
from . import (dense_heads, detectors, layers, losses, roi_heads,  # noqa: F401
               seg_heads, task_modules)
