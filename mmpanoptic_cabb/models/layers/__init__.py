"""models.layers of mmpanoptic_cabb."""
from .abn import ABN, SyncABN
from .aspp import ASPP
from .local_avg_pool import LocalAvgPool2d, local_average_pool

__all__ = ['ABN', 'ASPP', 'SyncABN', 'LocalAvgPool2d', 'local_average_pool']
