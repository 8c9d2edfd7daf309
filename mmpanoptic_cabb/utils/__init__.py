"""Utilities: runtime set-up, checkpoint loading and the dataset values of
the shared config base."""
from .checkpoint import load_checkpoint_file
from .dataset_config import fill_crop_cus_base, set_by_type
from .distributed import CPUDistributedDataParallel, init_cpu_distributed
from .runtime import setup_runtime_cfg

__all__ = [
    'setup_runtime_cfg', 'load_checkpoint_file', 'init_cpu_distributed',
    'CPUDistributedDataParallel', 'fill_crop_cus_base', 'set_by_type'
]
