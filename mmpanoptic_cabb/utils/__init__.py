"""Utilities: runtime set-up and checkpoint loading."""
from .checkpoint import load_checkpoint_file
from .runtime import setup_runtime_cfg

__all__ = ['setup_runtime_cfg', 'load_checkpoint_file']
