"""Runtime adjustments applied by ``tools/train.py`` and ``tools/test.py``."""
import torch
from mmengine.config import Config
from mmengine.logging import print_log


def setup_runtime_cfg(cfg: Config) -> Config:
    """Adapt a config to the machine it runs on (in place).

    - Distributed runs on machines without CUDA use the ``gloo`` backend (``nccl`` needs GPUs),
      and synchronized BN is only requested where it can work.
    - ``custom_imports`` always include ``mmpanoptic_cabb`` so our modules are registered.

    Args:
        cfg (Config): The config to adapt.

    Returns:
        Config: The same config.
    """
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    if not torch.cuda.is_available() and dist_cfg.get('backend',
                                                      'nccl') == 'nccl':
        dist_cfg['backend'] = 'gloo'
        if cfg.get('launcher', 'none') != 'none':
            print_log('CUDA is not available: distributed training uses the '
                      'gloo backend', logger='current')
    imports = cfg.setdefault('custom_imports',
                             dict(imports=[], allow_failed_imports=False))
    if 'mmpanoptic_cabb' not in imports.get('imports', []):
        imports['imports'] = list(imports.get('imports', [])) + [
            'mmpanoptic_cabb'
        ]
    return cfg
