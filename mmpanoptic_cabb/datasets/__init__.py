"""Datasets, samplers and transforms; importing registers them in mmdet's registries."""
from . import samplers, transforms  # noqa: F401
from .cityscapes_panoptic import CityscapesPanopticDataset
from .coco_panoptic_base import CocoPanopticBaseDataset
from .idd_panoptic import IDDPanopticDataset
from .mapillary_vistas_panoptic import MapillaryVistasPanopticDataset
from .synthetic_panoptic import SyntheticPanopticDataset

__all__ = [
    'CocoPanopticBaseDataset', 'SyntheticPanopticDataset',
    'MapillaryVistasPanopticDataset', 'CityscapesPanopticDataset',
    'IDDPanopticDataset'
]
