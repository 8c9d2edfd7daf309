"""Store and restore what an exact resume needs beyond mmengine's checkpoint."""
from mmengine.hooks import Hook
from mmengine.runner import BaseLoop

from mmdet.registry import HOOKS


@HOOKS.register_module()
class ResumeStateHook(Hook):
    """Adds ``resume_state`` to every checkpoint and hands it back on resume.

    The state comes from the training loop (``resume_state`` / ``load_resume_state`` of
    :class:`~mmpanoptic_cabb.engine.ResumableIterBasedTrainLoop` and
    :class:`~mmpanoptic_cabb.engine.ResumableEpochBasedTrainLoop`): the sampler position, the
    main process's generators and those of the loader workers. The loop uses it only when the
    run resumes (``--resume``); ``load_from`` and testing ignore it. With a loop that has no
    such methods the hook does nothing.
    """

    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Add the loop's resume state.

        Args:
            runner (Runner): The runner.
            checkpoint (dict): The checkpoint about to be written.
        """
        loop = runner._train_loop
        if isinstance(loop, BaseLoop) and hasattr(loop, 'resume_state'):
            checkpoint['resume_state'] = loop.resume_state(
                int(checkpoint['meta']['iter']))

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Give the loaded resume state (or None) to the loop.

        Args:
            runner (Runner): The runner.
            checkpoint (dict): The loaded checkpoint.
        """
        loop = runner._train_loop
        if isinstance(loop, BaseLoop) and hasattr(loop, 'load_resume_state'):
            loop.load_resume_state(checkpoint.get('resume_state'))
