"""Peak process memory in the training log on machines without CUDA."""
import resource
import sys
from typing import Optional

import torch
from mmengine.hooks import Hook

from mmdet.registry import HOOKS


def peak_rss_mb() -> float:
    """Peak resident memory of this process, in MiB (``ru_maxrss``)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # kilobytes on Linux, bytes on macOS
    return peak / (1024 * 1024) if sys.platform == 'darwin' else peak / 1024


@HOOKS.register_module()
class ProcessMemoryHook(Hook):
    """Log the peak resident memory of the process as ``train/memory``.

    mmengine's ``LogProcessor`` logs ``memory`` (MiB) from CUDA only; on a
    CPU run this hook puts the process's peak resident memory (MiB) in the
    message hub before the logger reads it, so every training log line
    names every loss, the ETA and the memory. With CUDA it does nothing.

    Args:
        interval (int): Iterations between updates. Defaults to 1.
    """

    priority = 'NORMAL'  # before LoggerHook (BELOW_NORMAL)

    def __init__(self, interval: int = 1) -> None:
        self.interval = interval

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        """Update ``train/memory`` every ``interval`` iterations."""
        if torch.cuda.is_available():
            return
        if self.every_n_train_iters(runner, self.interval) or \
                self.is_last_train_iter(runner):
            runner.message_hub.update_scalar('train/memory',
                                             round(peak_rss_mb()))
