"""Drawing of panoptic predictions and of crop-training samples."""
from .panoptic_visualizer import PanopticVisualizer

__all__ = ['PanopticVisualizer']
