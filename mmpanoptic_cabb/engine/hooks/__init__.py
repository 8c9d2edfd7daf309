"""Runner hooks."""
from .process_memory_hook import ProcessMemoryHook

__all__ = ['ProcessMemoryHook']
