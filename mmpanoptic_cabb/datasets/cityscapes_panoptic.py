"""Cityscapes panoptic segmentation as an mmdet dataset."""
from mmdet.registry import DATASETS
from .categories import CITYSCAPES_CATEGORIES, metainfo_from_categories
from .coco_panoptic_base import CocoPanopticBaseDataset


@DATASETS.register_module()
class CityscapesPanopticDataset(CocoPanopticBaseDataset):
    """Cityscapes panoptic: 19 classes, 8 of them things.

    Category ids are Cityscapes label ids (7..33), as cityscapesscripts'
    ``createPanopticImgs`` writes them; contiguous labels put the 8 things
    first (person, rider, car, truck, bus, train, motorcycle, bicycle), then
    the 11 stuff classes, each group in label id order.

    Layout written by ``tools/dataset_converters/cityscapes_panoptic.py``::

        data/cityscapes/
            images/{train,val}/*_leftImg8bit.png
            annotations/panoptic_{train,val}.json
            annotations/panoptic_{train,val}/*_gtFine_panoptic.png
    """
    METAINFO = metainfo_from_categories(CITYSCAPES_CATEGORIES)
