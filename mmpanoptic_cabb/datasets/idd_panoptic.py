"""IDD (Indian Driving Dataset, level-3 ids) panoptic as an mmdet dataset."""
from mmdet.registry import DATASETS
from .categories import IDD_LEVEL3_CATEGORIES, metainfo_from_categories
from .coco_panoptic_base import CocoPanopticBaseDataset


@DATASETS.register_module()
class IDDPanopticDataset(CocoPanopticBaseDataset):
    """IDD panoptic at level 3: 26 classes, 9 of them things.

    Category ids are IDD level-3 ids (0..25), as the IDD toolkit's panoptic
    converter writes them; contiguous labels put the 9 things first (person,
    rider, motorcycle, bicycle, autorickshaw, car, truck, bus, vehicle
    fallback), then the 17 stuff classes, each group in level-3 id order.

    Layout written by ``tools/dataset_converters/idd_panoptic.py``::

        data/idd/
            images/{train,val}/{seq}_{frame}_leftImg8bit.png
            annotations/panoptic_{train,val}.json
            annotations/panoptic_{train,val}/{seq}_{frame}_gtFine_panoptic.png
    """
    METAINFO = metainfo_from_categories(IDD_LEVEL3_CATEGORIES)
