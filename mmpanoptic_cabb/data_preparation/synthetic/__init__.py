"""The embedded synthetic high-resolution panoptic dataset (generator, no registries).

Its categories live with the runtime dataset class, in
:mod:`mmpanoptic_cabb.datasets.categories.synthetic`.
"""
from .scene import PROFILES, SceneProfile, get_profile, render_scene
from .writer import make_sample, write_synthetic_dataset

__all__ = [
    'PROFILES', 'SceneProfile', 'get_profile', 'render_scene', 'make_sample',
    'write_synthetic_dataset'
]
