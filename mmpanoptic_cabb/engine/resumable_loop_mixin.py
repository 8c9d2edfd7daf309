"""What the resumable training loops share: the resume state of a checkpoint, restarting the
loader at a draw id with the generators of the workers, the non-finite loss stop and the
loader reports."""
import logging
import os.path as osp
from typing import Callable, Dict, Optional, Tuple, Union

import torch
from mmengine.dist import get_dist_info
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.optim import AmpOptimWrapper
from torch.utils.data import DataLoader

from mmpanoptic_cabb.datasets.samplers.class_uniform_dataset import \
    REPORT_KEY
from mmpanoptic_cabb.structures.errors import NonFiniteLossError
from mmpanoptic_cabb.utils.checkpoint import (save_checkpoint_atomically,
                                              write_last_checkpoint)
from mmpanoptic_cabb.utils.rng_state import capture_rng_state
from .non_finite_loss_check import NonFiniteLossCheck

#: ``previous_batch(j)`` of :meth:`ResumableLoopMixin._worker_specs`: the global index of the
#: last batch made by the worker whose role new worker ``j`` takes (None: it had made none
#: since its seed) and that role (the original worker id).
PreviousBatch = Callable[[int], Tuple[Optional[int], int]]


class ResumableLoopMixin:
    """Resume logic of :class:`ResumableIterBasedTrainLoop` and
    :class:`ResumableEpochBasedTrainLoop` (mixed in before mmengine's loop).

    The loop subclass provides ``_draw_position(next_iter)`` (draw ids consumed in the sampler's
    current pass, all ranks) and ``_worker_window()`` (how many of the last batches' worker
    states a checkpoint keeps).
    """

    def _build_reporting_loader(self, runner, dataloader: Union[DataLoader,
                                                                Dict]):
        """Build the loader as BaseLoop does, after telling the dataset that the loop wants
        its reports (before the workers start)."""
        if isinstance(dataloader, dict):
            diff_rank_seed = runner._randomness_cfg.get(
                'diff_rank_seed', False)
            dataloader = runner.build_dataloader(
                dataloader, seed=runner.seed, diff_rank_seed=diff_rank_seed)
        self._draw_dataset = dataloader.dataset if hasattr(
            dataloader.dataset, 'report_to_loop') else None
        if self._draw_dataset is not None:
            self._draw_dataset.report_to_loop = True
        return dataloader

    def _init_resume(self, check_finite_loss: bool) -> None:
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
            dict: ``next_iter``, ``next_draw`` (draw ids of the sampler's current pass already
            consumed, all ranks), ``batch_size``, ``world_size``, ``rng`` (main-process
            generators) and ``workers``.
        """
        if self._rng_before_batch is not None and \
                self._rng_before_batch[0] == next_iter:
            rng = self._rng_before_batch[1]  # stopped inside this iteration
        else:
            rng = capture_rng_state()
        _, world_size = get_dist_info()
        window = self._worker_window()
        after = {b: s for b, s in self._worker_rng_after.items()
                 if next_iter - window <= b < next_iter}
        return dict(next_iter=next_iter, batch_size=self._batch_size(),
                    world_size=world_size,
                    next_draw=self._draw_position(next_iter), rng=rng,
                    workers=dict(num_workers=self.dataloader.num_workers,
                                 after=after))

    def load_resume_state(self, state: Optional[dict]) -> None:
        """Keep the state of a loaded checkpoint for ``run``.

        Args:
            state (dict, optional): Output of :meth:`resume_state`.
        """
        self._resume_state = state

    # -- helpers -----------------------------------------------------------

    def _model(self) -> torch.nn.Module:
        model = self.runner.model
        return model.module if is_model_wrapper(model) else model

    @staticmethod
    def _world_size() -> int:
        return get_dist_info()[1]

    def _batch_size(self) -> int:
        batch_sampler = self.dataloader.batch_sampler
        size = getattr(batch_sampler, 'batch_size', None)
        return int(size if size is not None else self.dataloader.batch_size)

    def _can_start_at_draw(self) -> bool:
        """Whether the checkpoint has a resume state and the sampler can start at a draw id
        (warns otherwise)."""
        state = self._resume_state
        sampler = self.dataloader.sampler
        if state is not None and hasattr(sampler, 'set_start_index'):
            _, world_size = get_dist_info()
            if (state['batch_size'], state['world_size']) != (
                    self._batch_size(), world_size):
                print_log(
                    f'resuming with {world_size} x {self._batch_size()} '
                    f'samples per iteration, the checkpoint used '
                    f'{state["world_size"]} x {state["batch_size"]}: the run '
                    f'continues at draw {state["next_draw"]} but cannot match '
                    'an uninterrupted one', logger='current',
                    level=logging.WARNING)
            return True
        why = ('the checkpoint has no resume state (ResumeStateHook)'
               if state is None else
               f'{type(sampler).__name__} cannot start at an index')
        print_log(f'{why}: advancing the loader by loading the batches '
                  'already trained on; the generators are not restored',
                  logger='current', level=logging.WARNING)
        return False

    def _start_loader(self, start_draw: int, specs: Dict[int, tuple],
                      make_iterator: Callable):
        """Start the sampler at ``start_draw`` and new workers with ``specs``; returns what
        ``make_iterator`` made."""
        self.dataloader.sampler.set_start_index(int(start_draw))
        if self._draw_dataset is not None and self.dataloader.num_workers:
            self._draw_dataset.worker_rng_resume = specs
        try:
            return make_iterator()
        finally:
            if self._draw_dataset is not None:
                self._draw_dataset.worker_rng_resume = None

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

    def _checked_iter(self, run_iter: Callable, *args) -> None:
        """Run ``run_iter(*args)``; on a non-finite loss put back the buffers, save the last
        good state and raise."""
        if self._loss_check is None:
            return run_iter(*args)
        buffers = {name: b.detach().clone()
                   for name, b in self._model().named_buffers()}
        try:
            run_iter(*args)
        except NonFiniteLossError as err:
            raise self._stop_non_finite(err, buffers) from err

    def _note_rng_before_batch(self) -> None:
        if self._loss_check is not None:
            self._rng_before_batch = (self._iter, capture_rng_state())

    def _take_report(self, data_batch) -> None:
        """Remove the loader reports from the batch and act on them."""
        if not isinstance(data_batch, dict) or REPORT_KEY not in data_batch:
            return
        reports = data_batch.pop(REPORT_KEY)
        if reports and reports[-1].rng_state is not None:
            self._worker_rng_after[self._iter] = reports[-1].rng_state
            window = self._worker_window()
            for b in [b for b in self._worker_rng_after
                      if b < self._iter - window]:
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

    def _worker_specs(self, workers: dict,
                      previous_batch: PreviousBatch) -> Dict[int, tuple]:
        """Generators of each new worker ``j``: those of the worker whose role it takes after
        the last batch that worker made (``workers``: the checkpoint's ``workers`` entry or
        the states recorded by this run), or that worker's seed if it had made none."""
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
            previous, role = previous_batch(j)
            if previous is None:
                specs[j] = ('seed', num_workers * rank + role +
                            self.runner.seed)
            elif previous in after:
                specs[j] = ('state', after[previous])
        return specs

    def _shutdown_loader(self, iterator) -> None:
        """Stop the workers of ``iterator`` (and of the loader's persistent one)."""
        if hasattr(iterator, '_shutdown_workers'):
            iterator._shutdown_workers()
        persistent = getattr(self.dataloader, '_iterator', None)
        if hasattr(persistent, '_shutdown_workers'):
            persistent._shutdown_workers()
        if persistent is not None:
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
