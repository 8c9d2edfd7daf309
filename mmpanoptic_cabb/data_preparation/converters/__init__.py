"""Converters of Mapillary Vistas, Cityscapes and IDD to COCO panoptic.

Pure python/numpy/OpenCV (no registries); the command-line entry points are
``tools/dataset_converters/{mapillary_vistas,cityscapes,idd}_panoptic.py``.
The category tables are runtime code, in
:mod:`mmpanoptic_cabb.datasets.categories`; the PNG codec is
:mod:`mmpanoptic_cabb.structures.panoptic_png`.
"""
from .cityscapes import classify_cityscapes_id, convert_cityscapes_split
from .errors import (BadIdError, DatasetConversionError,
                     InvalidAnnotationError, MismatchedFilesError,
                     MissingInputError)
from .idd import classify_idd_id, convert_idd_split
from .mapillary_vistas import convert_mapillary_vistas_split
from .panoptic_io import PanopticSplitWriter, validate_panoptic_split

__all__ = [
    'classify_cityscapes_id', 'convert_cityscapes_split', 'classify_idd_id',
    'convert_idd_split', 'convert_mapillary_vistas_split',
    'DatasetConversionError', 'MissingInputError', 'MismatchedFilesError',
    'BadIdError', 'InvalidAnnotationError', 'PanopticSplitWriter',
    'validate_panoptic_split'
]
