"""Distributed training without GPUs (gloo), on top of mmengine's launcher code.

mmengine 0.10.7 assumes CUDA when launched by torchrun: it calls ``torch.cuda.set_device`` before
creating the process group and wraps the model in DDP with ``device_ids=[LOCAL_RANK]``, which torch
refuses for CPU modules. On machines without CUDA we create the gloo process group ourselves
(mmengine then skips its own initialisation) and wrap the model in :class:`CPUDistributedDataParallel`,
which drops ``device_ids``. With CUDA nothing changes.
"""
import os

import torch
import torch.distributed as torch_dist
from mmengine.registry import MODEL_WRAPPERS
from mmengine.config import Config
from mmengine.model import MMDistributedDataParallel


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` for CPU modules: ``device_ids`` are ignored.

    Registered in mmengine's root ``MODEL_WRAPPERS``: the Runner looks wrappers up there without
    a scope.
    """

    def __init__(self, module: torch.nn.Module, device_ids=None, **kwargs):
        super().__init__(module=module, device_ids=None, **kwargs)


def init_cpu_distributed(cfg: Config) -> bool:
    """Start the gloo process group for a torchrun launch on a machine without CUDA.

    Args:
        cfg (Config): The run's config (``launcher`` and ``env_cfg.dist_cfg`` are read); its
            ``model_wrapper_cfg`` is set to :class:`CPUDistributedDataParallel`.

    Returns:
        bool: True if this function created the process group.
    """
    if cfg.get('launcher', 'none') != 'pytorch' or torch.cuda.is_available():
        return False
    wrapper = cfg.get('model_wrapper_cfg') or {}
    wrapper = dict(wrapper)
    wrapper['type'] = 'CPUDistributedDataParallel'
    wrapper.setdefault('broadcast_buffers', False)
    wrapper.setdefault('find_unused_parameters',
                       cfg.get('find_unused_parameters', False))
    cfg.model_wrapper_cfg = wrapper
    if torch_dist.is_initialized():
        return False
    backend = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('backend', 'gloo')
    torch_dist.init_process_group(
        backend=backend,
        rank=int(os.environ['RANK']),
        world_size=int(os.environ['WORLD_SIZE']))
    return True
