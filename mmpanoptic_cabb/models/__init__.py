"""Models of mmpanoptic_cabb; importing registers them in mmdet's MODELS."""
from . import (dense_heads, detectors, layers, losses, roi_heads,  # noqa: F401
               seg_heads)
