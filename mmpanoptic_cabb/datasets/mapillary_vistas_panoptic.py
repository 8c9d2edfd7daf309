"""Mapillary Vistas v1.2 panoptic segmentation as an mmdet dataset."""
from mmdet.registry import DATASETS
from .categories import (MAPILLARY_VISTAS_V12_CATEGORIES,
                         metainfo_from_categories)
from .coco_panoptic_base import CocoPanopticBaseDataset


@DATASETS.register_module()
class MapillaryVistasPanopticDataset(CocoPanopticBaseDataset):
    """Mapillary Vistas v1.2 panoptic: 65 classes, 37 of them things.

    Categories are those of the official ``panoptic_2018.json`` (ids 1..65);
    contiguous labels put the 37 things first, then the 28 stuff classes, each
    group in category id order. Labels follow ``classes`` by name, so both the
    official JSON and the one written by
    ``tools/dataset_converters/mapillary_vistas_panoptic.py`` load.

    Layout written by the converter::

        data/mapillary_vistas/
            images/{train,val}/*.jpg
            annotations/panoptic_{train,val}.json
            annotations/panoptic_{train,val}/*.png
    """
    METAINFO = metainfo_from_categories(MAPILLARY_VISTAS_V12_CATEGORIES)
