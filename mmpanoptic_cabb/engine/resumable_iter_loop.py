"""Iteration-based training loop that resumes exactly and stops clearly."""
import logging
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.dist import get_dist_info
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.optim import AmpOptimWrapper
from mmengine.runner import IterBasedTrainLoop
from mmengine.runner.loops import _InfiniteDataloaderIterator
from torch.utils.data import DataLoader

from mmdet.registry import LOOPS
from mmpanoptic_cabb.datasets.samplers.class_uniform_dataset import \
    REPORT_KEY
from mmpanoptic_cabb.structures.errors import NonFiniteLossError
from mmpanoptic_cabb.utils.checkpoint import (save_checkpoint_atomically,
                                              write_last_checkpoint)
from mmpanoptic_cabb.utils.rng_state import (capture_rng_state,
                                             restore_rng_state)
from .non_finite_loss_check import NonFiniteLossCheck


@LOOPS.register_module()
class ResumableIterBasedTrainLoop(IterBasedTrainLoop):
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
        if isinstance(dataloader, dict):
            # as BaseLoop builds it, but the dataset must know, before the
            # workers start, that the loop wants its reports
            diff_rank_seed = runner._randomness_cfg.get(
                'diff_rank_seed', False)
            dataloader = runner.build_dataloader(
                dataloader, seed=runner.seed, diff_rank_seed=diff_rank_seed)
        self._draw_dataset = dataloader.dataset if hasattr(
            dataloader.dataset, 'report_to_loop') else None
        if self._draw_dataset is not None:
            self._draw_dataset.report_to_loop = True
        super().__init__(runner, dataloader, max_iters, val_begin,
                         val_interval, dynamic_intervals)
        self.check_finite_loss = check_finite_loss
        self._worker_rng_after: Dict[int, dict] = {}
        self._rng_before_batch: Optional[Tuple[int, dict]] = None
        self._resume_state: Optional[dict] = None
        self._loss_check: Optional[NonFiniteLossCheck] = None

    # -- checkpoint state (ResumeStateHook) -------------------------------

    def resume_state(self, next_iter: int) -> dict:
        """What a checkpoint needs to continue at iteration ``next_iter``.

        Args:
            next_iter (int): The number of iterations the checkpoint counts.

        Returns:
            dict: ``next_iter``, ``next_draw`` (draw ids consumed, all ranks), ``batch_size``,
            ``world_size``, ``rng`` (main-process generators) and ``workers``.
        """
        if self._rng_before_batch is not None and \
                self._rng_before_batch[0] == next_iter:
            rng = self._rng_before_batch[1]  # stopped inside this iteration
        else:
            rng = capture_rng_state()
        _, world_size = get_dist_info()
        batch_size = self._batch_size()
        num_workers = self.dataloader.num_workers
        after = {b: s for b, s in self._worker_rng_after.items()
                 if next_iter - num_workers <= b < next_iter}
        return dict(next_iter=next_iter, batch_size=batch_size,
                    world_size=world_size,
                    next_draw=next_iter * batch_size * world_size, rng=rng,
                    workers=dict(num_workers=num_workers, after=after))

    def load_resume_state(self, state: Optional[dict]) -> None:
        """Keep the state of a loaded checkpoint for :meth:`run`.

        Args:
            state (dict, optional): Output of :meth:`resume_state`.
        """
        self._resume_state = state

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
            if self._loss_check is not None:
                self._rng_before_batch = (self._iter, capture_rng_state())
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
        if self._loss_check is None:
            return super().run_iter(data_batch)
        buffers = {name: b.detach().clone()
                   for name, b in self._model().named_buffers()}
        try:
            super().run_iter(data_batch)
        except NonFiniteLossError as err:
            raise self._stop_non_finite(err, buffers) from err

    # -- helpers -----------------------------------------------------------

    def _model(self) -> torch.nn.Module:
        model = self.runner.model
        return model.module if is_model_wrapper(model) else model

    def _batch_size(self) -> int:
        batch_sampler = self.dataloader.batch_sampler
        size = getattr(batch_sampler, 'batch_size', None)
        return int(size if size is not None else self.dataloader.batch_size)

    def _install_loss_check(self) -> None:
        if not self.check_finite_loss or isinstance(self.runner.optim_wrapper,
                                                    AmpOptimWrapper):
            return
        model = self._model()
        if isinstance(model.parse_losses, NonFiniteLossCheck):
            self._loss_check = model.parse_losses
        else:
            self._loss_check = NonFiniteLossCheck(model.parse_losses)
            model.parse_losses = self._loss_check

    def _take_report(self, data_batch) -> None:
        """Remove the loader reports from the batch and act on them."""
        if not isinstance(data_batch, dict) or REPORT_KEY not in data_batch:
            return
        reports = data_batch.pop(REPORT_KEY)
        if reports and reports[-1].rng_state is not None:
            self._worker_rng_after[self._iter] = reports[-1].rng_state
            for b in [b for b in self._worker_rng_after
                      if b < self._iter - self.dataloader.num_workers]:
                del self._worker_rng_after[b]
        skipped = [s for r in reports for s in r.skipped]
        if skipped:
            hub = self.runner.message_hub
            total = hub.get_info('skipped_samples', 0) + len(skipped)
            hub.update_info('skipped_samples', total)
            for text in skipped:
                self.runner.logger.warning(
                    f'iteration {self._iter + 1}: replaced a bad sample by a '
                    f'fresh draw ({total} so far): {text}')

    def _continue_at(self, next_iter: int) -> None:
        """Put the loader and the generators where the checkpoint left them."""
        state = self._resume_state
        sampler = self.dataloader.sampler
        if state is None or not hasattr(sampler, 'set_start_index'):
            why = ('the checkpoint has no resume state (ResumeStateHook)'
                   if state is None else
                   f'{type(sampler).__name__} cannot start at an index')
            print_log(f'{why}: advancing the loader {next_iter} steps by '
                      'loading them; the generators are not restored',
                      logger='current', level=logging.WARNING)
            for _ in range(next_iter):
                next(self.dataloader_iterator)
            return
        _, world_size = get_dist_info()
        if (state['batch_size'], state['world_size']) != (self._batch_size(),
                                                          world_size):
            print_log(
                f'resuming with {world_size} x {self._batch_size()} samples '
                f'per iteration, the checkpoint used {state["world_size"]} x '
                f'{state["batch_size"]}: the run continues at draw '
                f'{state["next_draw"]} but cannot match an uninterrupted one',
                logger='current', level=logging.WARNING)
        self._shutdown_loader()
        sampler.set_start_index(int(state['next_draw']))
        if self._draw_dataset is not None and self.dataloader.num_workers:
            self._draw_dataset.worker_rng_resume = self._worker_specs(
                state, next_iter)
        self.dataloader_iterator = _InfiniteDataloaderIterator(
            self.dataloader)
        if self._draw_dataset is not None:
            self._draw_dataset.worker_rng_resume = None
        restore_rng_state(state['rng'])
        print_log(f'resumed the sampler at draw id {state["next_draw"]} and '
                  'the generators of iteration '
                  f'{next_iter}', logger='current')

    def _worker_specs(self, state: dict, next_iter: int) -> Dict[int, tuple]:
        """Generators of each new worker: those of the worker that would
        have produced its batches (new worker ``j`` makes batches
        ``next_iter + j + k * num_workers``)."""
        workers = state['workers']
        num_workers = self.dataloader.num_workers
        if workers['num_workers'] != num_workers:
            print_log(f'the checkpoint was written with '
                      f'{workers["num_workers"]} loader workers, this run has '
                      f'{num_workers}: the workers restart from their seeds',
                      logger='current', level=logging.WARNING)
            return {}
        rank, _ = get_dist_info()
        after = {int(b): s for b, s in workers['after'].items()}
        specs = {}
        for j in range(num_workers):
            previous = next_iter + j - num_workers
            if previous in after:
                specs[j] = ('state', after[previous])
            elif previous < 0:  # that worker had not produced a batch yet
                original = (next_iter + j) % num_workers
                specs[j] = ('seed', num_workers * rank + original +
                            self.runner.seed)
        return specs

    def _shutdown_loader(self) -> None:
        """Stop the workers started before the checkpoint was loaded."""
        iterator = getattr(self.dataloader_iterator, '_iterator', None)
        if hasattr(iterator, '_shutdown_workers'):
            iterator._shutdown_workers()
        if getattr(self.dataloader, '_iterator', None) is not None:
            self.dataloader._iterator = None

    def _stop_non_finite(self, err: NonFiniteLossError,
                         buffers: Dict[str, torch.Tensor]) -> Exception:
        """Write the last good state and build the error to raise."""
        model = self._model()
        with torch.no_grad():
            for name, buf in model.named_buffers():
                if name in buffers:
                    buf.copy_(buffers[name])
        filename = f'iter_{self._iter}.pth'
        path = save_checkpoint_atomically(
            self.runner, self.runner.work_dir, filename,
            meta=dict(epoch=self._epoch, iter=self._iter), by_epoch=False)
        if osp.isfile(path):
            write_last_checkpoint(self.runner.work_dir, path)
        error = NonFiniteLossError(err.terms, iteration=self._iter + 1,
                                   checkpoint=path)
        self.runner.logger.error(str(error))
        return error
