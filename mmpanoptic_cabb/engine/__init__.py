"""Runner hooks."""
from .hooks import ProcessMemoryHook

__all__ = ['ProcessMemoryHook']
