"""Class-uniform sampling: class -> image -> instance index, dataset
wrapper and draw-id sampler (mmdet's ``DATASETS`` / ``DATA_SAMPLERS``)."""
from .class_index import ClassIndex
from .class_uniform_dataset import ClassUniformDataset
from .class_uniform_sampler import ClassUniformSampler

__all__ = ['ClassIndex', 'ClassUniformDataset', 'ClassUniformSampler']
