"""models.task_modules.samplers of mmpanoptic_cabb."""
from .truncation_aware_random_sampler import TruncationAwareRandomSampler

__all__ = ['TruncationAwareRandomSampler']
