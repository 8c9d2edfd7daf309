"""Category tables of the supported datasets (pure python, no registries).

Used by the dataset classes at runtime and by the offline converters and the
synthetic generator in :mod:`mmpanoptic_cabb.data_preparation`.
"""
from .street_scenes import (CITYSCAPES_CATEGORIES,
                            CITYSCAPES_INSTANCE_LABEL_IDS,
                            CITYSCAPES_MAX_LABEL_ID, IDD_LEVEL3_CATEGORIES,
                            IDD_VOID_LEVEL3_ID,
                            MAPILLARY_VISTAS_V12_CATEGORIES, Category,
                            coco_categories, metainfo_from_categories,
                            things_first)
from .synthetic import (CATEGORY_BY_NAME, STUFF_NAMES, SYNTHETIC_CATEGORIES,
                        THING_NAMES, synthetic_metainfo)

__all__ = [
    'Category', 'MAPILLARY_VISTAS_V12_CATEGORIES', 'CITYSCAPES_CATEGORIES',
    'CITYSCAPES_MAX_LABEL_ID', 'CITYSCAPES_INSTANCE_LABEL_IDS',
    'IDD_LEVEL3_CATEGORIES', 'IDD_VOID_LEVEL3_ID', 'things_first',
    'coco_categories', 'metainfo_from_categories', 'SYNTHETIC_CATEGORIES',
    'STUFF_NAMES', 'THING_NAMES', 'CATEGORY_BY_NAME', 'synthetic_metainfo'
]
