<<<<<<< HEAD
"""Training engine: a loop that resumes exactly and stops clearly on a non-finite loss, the
hook that stores its resume state in checkpoints, and atomic checkpoint writing (mmdet's
``LOOPS`` / ``HOOKS``, selected by the configs)."""
from .atomic_checkpoint_hook import AtomicCheckpointHook
from .non_finite_loss_check import NonFiniteLossCheck
from .resumable_iter_loop import ResumableIterBasedTrainLoop
from .resume_state_hook import ResumeStateHook

__all__ = [
    'AtomicCheckpointHook', 'NonFiniteLossCheck', 'ResumableIterBasedTrainLoop',
    'ResumeStateHook'
]
=======
"""Runner hooks."""
from .hooks import ProcessMemoryHook

__all__ = ['ProcessMemoryHook']
>>>>>>> issue13
