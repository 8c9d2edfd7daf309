"""Training engine: a loop that resumes exactly and stops clearly on a non-finite loss, the
hook that stores its resume state in checkpoints, atomic checkpoint writing, and the peak
process memory in CPU training logs (mmdet's ``LOOPS`` / ``HOOKS``, selected by the configs)."""
from .atomic_checkpoint_hook import AtomicCheckpointHook
from .non_finite_loss_check import NonFiniteLossCheck
from .process_memory_hook import ProcessMemoryHook
from .resumable_iter_loop import ResumableIterBasedTrainLoop
from .resume_state_hook import ResumeStateHook

__all__ = [
    'AtomicCheckpointHook', 'NonFiniteLossCheck', 'ProcessMemoryHook',
    'ResumableIterBasedTrainLoop', 'ResumeStateHook'
]
