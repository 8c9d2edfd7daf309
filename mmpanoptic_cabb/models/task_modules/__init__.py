"""models.task_modules of mmpanoptic_cabb."""
from .samplers import TruncationAwareRandomSampler

__all__ = ['TruncationAwareRandomSampler']
