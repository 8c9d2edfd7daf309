"""The embedded synthetic high-resolution panoptic dataset (generator, no registries)."""
from .categories import SYNTHETIC_CATEGORIES, synthetic_metainfo
from .scene import render_scene
from .writer import (ids_to_rgb, make_sample, rgb_to_ids, segment_stats,
                     write_synthetic_dataset)

__all__ = [
    'SYNTHETIC_CATEGORIES', 'synthetic_metainfo', 'render_scene', 'ids_to_rgb',
    'rgb_to_ids', 'segment_stats', 'make_sample', 'write_synthetic_dataset'
]
