"""models.detectors of mmpanoptic_cabb."""
from .seamless_panoptic_segmentor import SeamlessPanopticSegmentor

__all__ = ['SeamlessPanopticSegmentor']
