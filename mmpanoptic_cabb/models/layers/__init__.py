"""models.layers of mmpanoptic_cabb."""
from .abn import ABN, SyncABN

__all__ = ['ABN', 'SyncABN']
