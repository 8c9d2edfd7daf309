"""Converters of Mapillary Vistas, Cityscapes and IDD to COCO panoptic.

Pure python/numpy/OpenCV (no registries); the command-line entry points are
``tools/dataset_converters/{mapillary_vistas,cityscapes,idd}_panoptic.py``.
"""
from .categories import (CITYSCAPES_CATEGORIES, IDD_LEVEL3_CATEGORIES,
                         MAPILLARY_VISTAS_V12_CATEGORIES, coco_categories,
                         metainfo_from_categories, things_first)
from .cityscapes import classify_cityscapes_id, convert_cityscapes_split
from .errors import (BadIdError, DatasetConversionError,
                     InvalidAnnotationError, MismatchedFilesError,
                     MissingInputError)
from .idd import classify_idd_id, convert_idd_split
from .mapillary_vistas import convert_mapillary_vistas_split
from .panoptic_io import (PanopticSplitWriter, read_panoptic_png,
                          validate_panoptic_split, write_panoptic_png)

__all__ = [
    'CITYSCAPES_CATEGORIES', 'IDD_LEVEL3_CATEGORIES',
    'MAPILLARY_VISTAS_V12_CATEGORIES', 'coco_categories',
    'metainfo_from_categories', 'things_first', 'classify_cityscapes_id',
    'convert_cityscapes_split', 'classify_idd_id', 'convert_idd_split',
    'convert_mapillary_vistas_split', 'DatasetConversionError',
    'MissingInputError', 'MismatchedFilesError', 'BadIdError',
    'InvalidAnnotationError', 'PanopticSplitWriter', 'read_panoptic_png',
    'write_panoptic_png', 'validate_panoptic_split'
]
