"""Datasets, samplers and transforms; importing registers them in mmdet's registries."""
from . import samplers, transforms  # noqa: F401
from .synthetic_panoptic import SyntheticPanopticDataset

__all__ = ['SyntheticPanopticDataset']
