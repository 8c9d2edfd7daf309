"""mmengine's ``CheckpointHook`` writing each file under a temporary name first."""
from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.runner import EpochBasedTrainLoop

from mmdet.registry import HOOKS
from mmpanoptic_cabb.utils.checkpoint import (save_checkpoint_atomically,
                                              write_last_checkpoint)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` whose files are never seen half written.

    A checkpoint is written to ``.<name>.tmp`` in the same directory and renamed to its name
    once complete; ``last_checkpoint`` is then replaced the same way, and only after that are
    checkpoints beyond ``max_keep_ckpts`` removed (mmengine removes the oldest one first). A
    kill at any moment leaves ``last_checkpoint`` naming a complete file, and the previous
    checkpoints in place.

    Args:
        final_epoch_file (bool): With ``by_epoch=False`` in an epoch-based training, also write
            ``epoch_<max_epochs>.pth`` after the last epoch (the name the fine-tuning configs
            load). Defaults to False.
        **kwargs: Those of ``CheckpointHook``.
    """

    def __init__(self, final_epoch_file: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.final_epoch_file = final_epoch_file

    def after_train_epoch(self, runner) -> None:
        """As ``CheckpointHook``; then the final ``epoch_<max_epochs>.pth`` if asked for."""
        super().after_train_epoch(runner)
        if (self.by_epoch or not self.final_epoch_file
                or not isinstance(runner.train_loop, EpochBasedTrainLoop)
                or runner.epoch + 1 != runner.max_epochs):
            return
        kwargs = dict(save_optimizer=self.save_optimizer,
                      save_param_scheduler=self.save_param_scheduler,
                      by_epoch=True, backend_args=self.backend_args,
                      **self.args)
        path = save_checkpoint_atomically(
            runner, self.out_dir, f'epoch_{runner.epoch + 1}.pth', **kwargs)
        if is_main_process():
            write_last_checkpoint(runner.work_dir, path)

    def _save_checkpoint_with_step(self, runner, step, meta):
        """Save the checkpoint of ``step``, then prune old ones."""
        outdated = []
        if self.max_keep_ckpts > 0 and not (
                self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        kwargs = dict(
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta, by_epoch=self.by_epoch, backend_args=self.backend_args,
            **self.args)
        if self.file_client_args is not None:
            kwargs['file_client_args'] = self.file_client_args
        save_checkpoint_atomically(runner, self.out_dir, ckpt_filename,
                                   **kwargs)
        if not is_main_process():
            return
        write_last_checkpoint(runner.work_dir, self.last_ckpt)
        for old in outdated:
            path = self.file_backend.join_path(self.out_dir,
                                               self.filename_tmpl.format(old))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):
                self.file_backend.rmtree(path)
