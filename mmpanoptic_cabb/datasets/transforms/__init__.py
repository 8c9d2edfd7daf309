"""Panoptic training transforms (registered in mmdet's ``TRANSFORMS``).

Pure maths lives in :mod:`.isus_scale`, :mod:`.truncation`,
:mod:`.crop_window`, :mod:`.resample_window` and :mod:`.inst_map_ops`;
:mod:`.lazy_resize` carries a deferred resize through the results dict; the
other modules are thin registered wrappers around mmdet/mmcv transforms.
"""
from .crop import TruncationAwareRandomCrop
from .flip import PanopticRandomFlip
from .formatting import PackPanopticInputs
from .inst_map_to_masks import InstMapToMasks
from .isus import ISUSResize
from .loading import LoadPanopticAnnotationsLean
from .resize import PanopticResize

__all__ = [
    'TruncationAwareRandomCrop', 'PanopticRandomFlip', 'PackPanopticInputs',
    'InstMapToMasks', 'ISUSResize', 'LoadPanopticAnnotationsLean',
    'PanopticResize'
]
