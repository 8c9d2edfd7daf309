"""Training engine: iteration- and epoch-based loops that resume exactly and stop clearly on a
non-finite loss, the hook that stores their resume state in checkpoints, atomic checkpoint
writing, and the peak process memory in CPU training logs (mmdet's ``LOOPS`` / ``HOOKS``,
selected by the configs)."""
from .atomic_checkpoint_hook import AtomicCheckpointHook
from .non_finite_loss_check import NonFiniteLossCheck
from .process_memory_hook import ProcessMemoryHook
from .resumable_epoch_loop import ResumableEpochBasedTrainLoop
from .resumable_iter_loop import ResumableIterBasedTrainLoop
from .resumable_loop_mixin import ResumableLoopMixin
from .resume_state_hook import ResumeStateHook

__all__ = [
    'AtomicCheckpointHook', 'NonFiniteLossCheck', 'ProcessMemoryHook',
    'ResumableEpochBasedTrainLoop', 'ResumableIterBasedTrainLoop', 'ResumableLoopMixin',
    'ResumeStateHook'
]
