"""High-level inference API."""
from .inference import inference_panoptic, init_panoptic_model
from .panoptic_inferencer import PanopticInferencer

__all__ = ['init_panoptic_model', 'inference_panoptic', 'PanopticInferencer']
