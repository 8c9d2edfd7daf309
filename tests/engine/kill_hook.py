"""A hook that kills its own process with SIGKILL, as slurm or the OOM killer would."""
import os
import signal

from mmengine.hooks import Hook

from mmdet.registry import HOOKS


@HOOKS.register_module(force=True)
class SelfKillHook(Hook):
    """SIGKILL the training process after iteration ``after_iter`` (1-based).

    Args:
        after_iter (int): The iteration after which the process dies.
    """

    priority = 'LOWEST'

    def __init__(self, after_iter: int) -> None:
        self.after_iter = after_iter

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if runner.iter + 1 == self.after_iter:
            os.kill(os.getpid(), signal.SIGKILL)
