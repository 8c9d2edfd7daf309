"""Utilities: runtime set-up and checkpoint loading."""
from .checkpoint import load_checkpoint_file
from .distributed import CPUDistributedDataParallel, init_cpu_distributed
from .runtime import setup_runtime_cfg

__all__ = [
    'setup_runtime_cfg', 'load_checkpoint_file', 'init_cpu_distributed',
    'CPUDistributedDataParallel'
]
