"""Epoch-based training loop that resumes exactly, also inside an epoch, and stops clearly."""
import logging
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop
from torch.utils.data import DataLoader

from mmdet.registry import LOOPS
from mmpanoptic_cabb.utils.rng_state import (capture_rng_state,
                                             restore_rng_state)
from .resumable_loop_mixin import ResumableLoopMixin


@LOOPS.register_module()
class ResumableEpochBasedTrainLoop(ResumableLoopMixin, EpochBasedTrainLoop):
    """mmengine's ``EpochBasedTrainLoop`` that a resumed run continues exactly.

    An uninterrupted run is the same as with ``EpochBasedTrainLoop`` (same batches, same
    consumption of every generator, same weights). Checkpoints may be written inside an epoch
    (``default_hooks.checkpoint`` with ``by_epoch=False``); mmengine would restart such an epoch
    from its first batch with re-seeded generators. With
    :class:`~mmpanoptic_cabb.engine.ResumeStateHook` this loop continues inside the epoch:
    ``before_train_epoch`` runs again (``set_epoch`` selects the epoch's block of draw ids),
    the sampler starts at the next draw id of the epoch (``set_start_index``), each new loader
    worker gets the generators of the worker that would have produced its batches (with
    ``persistent_workers`` the workers are restarted once more at the next epoch, so that batch
    ``i`` of every epoch comes again from worker ``i % num_workers``) and the main generators are
    put back where the checkpoint left them. Samplers without ``set_start_index`` are advanced
    by loading the batches already trained on. Non-finite losses and bad samples are handled as
    in :class:`~mmpanoptic_cabb.engine.ResumableIterBasedTrainLoop`.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The training loader or its config.
        max_epochs (int): Total training epochs.
        val_begin (int): First epoch that validates. Defaults to 1.
        val_interval (int): Validation interval in epochs. Defaults to 1.
        dynamic_intervals (list[tuple[int, int]], optional): As mmengine's.
        check_finite_loss (bool): Stop on a non-finite loss. Defaults to True.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 max_epochs: int,
                 val_begin: int = 1,
                 val_interval: int = 1,
                 dynamic_intervals: Optional[List[Tuple[int, int]]] = None,
                 check_finite_loss: bool = True) -> None:
        dataloader = self._build_reporting_loader(runner, dataloader)
        super().__init__(runner, dataloader, max_epochs, val_begin,
                         val_interval, dynamic_intervals)
        self._init_resume(check_finite_loss)
        self._resume_position: Optional[int] = None
        self._realign_workers = False

    def _draw_position(self, next_iter: int) -> int:
        """Draw ids of the current epoch consumed after ``next_iter`` iterations."""
        position = next_iter - self._epoch * len(self.dataloader)
        return position * self._batch_size() * self._world_size()

    def _worker_window(self) -> int:
        """With persistent workers a role's last batch may be in the previous epoch."""
        return 2 * self.dataloader.num_workers

    # -- the loop ----------------------------------------------------------

    def run(self) -> torch.nn.Module:
        """Launch training."""
        self.runner.call_hook('before_train')
        if self._iter > 0:
            self._resume_position = self._position_in_epoch()
        self._install_loss_check()
        while self._epoch < self._max_epochs and not self.stop_training:
            self.run_epoch()
            self._decide_current_val_interval()
            if (self.runner.val_loop is not None
                    and self._epoch >= self.val_begin
                    and (self._epoch % self.val_interval == 0
                         or self._epoch == self._max_epochs)):
                self.runner.val_loop.run()
        self.runner.call_hook('after_train')
        return self.runner.model

    def run_epoch(self) -> None:
        """Iterate one epoch (its remainder after a resume)."""
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        batches, idx = self._epoch_batches()
        iterator = iter(batches)
        while True:
            self._note_rng_before_batch()
            try:
                data_batch = next(iterator)
            except StopIteration:
                break
            self._take_report(data_batch)
            self.run_iter(idx, data_batch)
            idx += 1
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1

    def run_iter(self, idx: int, data_batch: Sequence[dict]) -> None:
        """Iterate one mini-batch; stop cleanly on a non-finite loss.

        Args:
            idx (int): Index of the batch in the epoch.
            data_batch (Sequence[dict]): The batch.
        """
        self._checked_iter(super().run_iter, idx, data_batch)

    # -- helpers -----------------------------------------------------------

    def _position_in_epoch(self) -> Optional[int]:
        """Batches of the current epoch the checkpoint had trained on."""
        length = len(self.dataloader)
        position = self._iter - self._epoch * length
        if 0 <= position <= length:
            return position
        print_log(f'the checkpoint counts {self._iter} iterations in epoch '
                  f'{self._epoch}, which has {length} batches (another '
                  'dataset or batch size?): the epoch restarts at its first '
                  'batch', logger='current', level=logging.WARNING)
        return None

    def _persistent(self) -> bool:
        return bool(self.dataloader.num_workers
                    and self.dataloader.persistent_workers)

    def _epoch_batches(self):
        """The batches of this epoch and the index of the first."""
        position, self._resume_position = self._resume_position, None
        if position is None:
            if self._realign_workers:
                self._realign_workers = False
                rng = capture_rng_state()  # a fresh iterator draws its seed
                iterator = self._restart_loader(0, dict(
                    num_workers=self.dataloader.num_workers,
                    after=self._worker_rng_after))
                restore_rng_state(rng)
                return iterator, 0
            return self.dataloader, 0
        if not self._can_start_at_draw():
            iterator = iter(self.dataloader)
            for _ in range(position):
                next(iterator)
            return iterator, position
        state = self._resume_state
        self._worker_rng_after.update(
            {int(b): s for b, s in state['workers']['after'].items()})
        length = len(self.dataloader)
        num_workers = self.dataloader.num_workers
        if position == length:  # written after the epoch's last batch
            restore_rng_state(state['rng'])
            self._realign_workers = self._persistent()
            iterator = iter(())
        elif position == 0 and (not self._persistent() or self._epoch == 0):
            # the uninterrupted run starts this epoch's workers afresh, after
            # the state the checkpoint holds
            restore_rng_state(state['rng'])
            iterator = iter(self.dataloader)
        else:
            iterator = self._restart_loader(position, state['workers'])
            restore_rng_state(state['rng'])
            self._realign_workers = self._persistent() and bool(
                position % num_workers)
        where = (f'after the last batch of epoch {self._epoch + 1}'
                 if position == length else
                 f'epoch {self._epoch + 1} at batch {position + 1} of {length}')
        print_log(f'resumed {where} with the generators of iteration '
                  f'{self._iter}', logger='current')
        return iterator, position

    def _restart_loader(self, position: int, workers: dict):
        """A new loader iterator from batch ``position`` of this epoch, each new worker with
        the generators of the worker whose batches it makes."""
        num_workers = self.dataloader.num_workers
        length = len(self.dataloader)
        next_iter = self._iter
        persistent = self._persistent()

        def previous_batch(j: int):
            role = (position + j) % num_workers
            if position + j - num_workers >= 0:
                return next_iter + j - num_workers, role
            if not persistent or self._epoch == 0 or role >= length:
                return None, role
            last = role + num_workers * ((length - 1 - role) // num_workers)
            return next_iter - position - length + last, role

        specs = self._worker_specs(workers, previous_batch) \
            if num_workers else {}
        self._shutdown_loader(None)
        return self._start_loader(
            position * self._batch_size() * self._world_size(), specs,
            lambda: iter(self.dataloader))
