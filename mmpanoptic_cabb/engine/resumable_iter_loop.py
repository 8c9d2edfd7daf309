"""Iteration-based training loop that resumes exactly and stops clearly."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop
from mmengine.runner.loops import _InfiniteDataloaderIterator
from torch.utils.data import DataLoader

from mmdet.registry import LOOPS
from mmpanoptic_cabb.utils.rng_state import restore_rng_state
from .resumable_loop_mixin import ResumableLoopMixin


@LOOPS.register_module()
class ResumableIterBasedTrainLoop(ResumableLoopMixin, IterBasedTrainLoop):
    """mmengine's ``IterBasedTrainLoop`` that a resumed run continues exactly.

    An uninterrupted run is the same as with ``IterBasedTrainLoop`` (same batches, same
    consumption of every generator, same weights). What differs:

    * **Resume.** mmengine resumes the weights, the optimizer, the schedulers and the counter,
      but (a) re-seeds python's, numpy's and torch's generators with the seed instead of
      restoring their state after the last iteration (torch draws the RPN / RoI samples,
      numpy the scale, flip and crop of each sample), and (b) restarts the loader workers with
      their initial seeds, then "advances" the loader by loading and discarding every batch
      already trained on. With :class:`~mmpanoptic_cabb.engine.ResumeStateHook` the
      checkpoint holds the main process's generators and, for each worker, its generators
      after the last batch it produced; on resume the sampler starts at the next draw id
      (``set_start_index``: the draw ids of class-uniform sampling are a pure function of
      their index, nothing is decoded for nothing), each new worker gets the generators of
      the worker that would have produced its batches, and the main generators are put back
      last. Samplers without ``set_start_index`` are advanced as mmengine does.
    * **Non-finite losses.** A NaN/inf total loss stops training before the backward pass
      (:class:`~mmpanoptic_cabb.engine.NonFiniteLossCheck`): the loop puts back the buffers
      the failed forward pass changed (batch-norm statistics), writes ``iter_<k>.pth`` with
      the state after the last good iteration ``k`` and raises
      :class:`~mmpanoptic_cabb.structures.errors.NonFiniteLossError` naming the iteration and
      the terms. Off with AMP (the gradient scaler skips such steps) or with
      ``check_finite_loss=False``.
    * **Bad samples.** Samples that :class:`ClassUniformDataset` (``skip_bad_samples=True``)
      replaced by fresh draws are logged with their files and counted (``skipped_samples``
      in the message hub, kept across resumes).

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The training loader or its config.
        max_iters (int): Total training iterations.
        val_begin (int): First iteration that validates. Defaults to 1.
        val_interval (int): Validation interval. Defaults to 1000.
        dynamic_intervals (list[tuple[int, int]], optional): As mmengine's.
        check_finite_loss (bool): Stop on a non-finite loss. Defaults to True.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 max_iters: int,
                 val_begin: int = 1,
                 val_interval: int = 1000,
                 dynamic_intervals: Optional[List[Tuple[int, int]]] = None,
                 check_finite_loss: bool = True) -> None:
        dataloader = self._build_reporting_loader(runner, dataloader)
        super().__init__(runner, dataloader, max_iters, val_begin,
                         val_interval, dynamic_intervals)
        self._init_resume(check_finite_loss)

    def _draw_position(self, next_iter: int) -> int:
        """Draw ids consumed after ``next_iter`` iterations (all ranks)."""
        return next_iter * self._batch_size() * self._world_size()

    def _worker_window(self) -> int:
        """A new worker takes the role of one that made one of the last batches."""
        return self.dataloader.num_workers

    # -- the loop ----------------------------------------------------------

    def run(self) -> torch.nn.Module:
        """Launch training."""
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        if self._iter > 0:
            self._continue_at(self._iter)
        self._install_loss_check()
        while self._iter < self._max_iters and not self.stop_training:
            self.runner.model.train()
            self._note_rng_before_batch()
            data_batch = next(self.dataloader_iterator)
            self._take_report(data_batch)
            self.run_iter(data_batch)
            self._decide_current_val_interval()
            if (self.runner.val_loop is not None
                    and self._iter >= self.val_begin
                    and (self._iter % self.val_interval == 0
                         or self._iter == self._max_iters)):
                self.runner.val_loop.run()
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model

    def run_iter(self, data_batch: Sequence[dict]) -> None:
        """Iterate one mini-batch; stop cleanly on a non-finite loss.

        Args:
            data_batch (Sequence[dict]): The batch.
        """
        self._checked_iter(super().run_iter, data_batch)

    # -- helpers -----------------------------------------------------------

    def _continue_at(self, next_iter: int) -> None:
        """Put the loader and the generators where the checkpoint left them."""
        if not self._can_start_at_draw():
            for _ in range(next_iter):
                next(self.dataloader_iterator)
            return
        state = self._resume_state
        num_workers = self.dataloader.num_workers

        def previous_batch(j: int):
            # new worker j makes batches next_iter + j + k * num_workers
            previous = next_iter + j - num_workers
            role = (next_iter + j) % num_workers
            return (previous if previous >= 0 else None), role

        specs = self._worker_specs(state['workers'], previous_batch) \
            if num_workers else {}
        self._shutdown_loader(getattr(self.dataloader_iterator, '_iterator',
                                      None))
        self.dataloader_iterator = self._start_loader(
            state['next_draw'], specs,
            lambda: _InfiniteDataloaderIterator(self.dataloader))
        restore_rng_state(state['rng'])
        print_log(f'resumed the sampler at draw id {state["next_draw"]} and '
                  f'the generators of iteration {next_iter}', logger='current')
