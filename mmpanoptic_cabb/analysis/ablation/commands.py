"""The ``tools/train.py`` and ``tools/test.py`` commands of a run.

``tools/train.py`` trains the variant's config with ``randomness.seed=S``
(so all variants of one seed see the same class-uniform draws and start from
the same weights) and no validation; ``tools/test.py`` evaluates the final
checkpoint on the val split.
"""
import os.path as osp
import sys
from typing import List, Optional

from .common import REPO_ROOT
from .runs import RunSpec


def data_root_options(spec: RunSpec, train: bool) -> List[str]:
    """``--cfg-options`` that point a run at ``spec.data_root``.

    Args:
        spec (RunSpec): The run.
        train (bool): For ``tools/train.py`` (training dataset) or
            ``tools/test.py`` (test dataset and evaluator).

    Returns:
        list[str]: ``key=value`` items.
    """
    if train:
        return [f'{spec.train_dataset_key}.data_root={spec.data_root}']
    return test_data_root_options(spec.data_root, spec.test_dataset_key)


def test_data_root_options(root: str, dataset_key: str) -> List[str]:
    """``--cfg-options`` that test on the val split under ``root``.

    Args:
        root (str): Dataset root, ending in ``/``.
        dataset_key (str): Config key of the test dataset.

    Returns:
        list[str]: The dataset's ``data_root`` and the evaluator's
        ``ann_file`` and ``seg_prefix``.
    """
    return [
        f'{dataset_key}.data_root={root}',
        f'test_evaluator.ann_file={root}annotations/panoptic_val.json',
        f'test_evaluator.seg_prefix={root}annotations/panoptic_val/',
    ]


def train_command(spec: RunSpec, resume: Optional[str] = None,
                  python: str = sys.executable) -> List[str]:
    """The ``tools/train.py`` command of a run.

    Args:
        spec (RunSpec): The run.
        resume (str, optional): Checkpoint to resume from.
        python (str): Interpreter.

    Returns:
        list[str]: The command.
    """
    n = spec.iters
    log = min(spec.log_interval, n)
    options = [
        f'randomness.seed={spec.seed}',
        f'train_cfg.max_iters={n}',
        f'train_cfg.val_interval={n}',
        f'default_hooks.checkpoint.interval={min(spec.ckpt_interval, n)}',
        'default_hooks.checkpoint.max_keep_ckpts=2',
        f'default_hooks.logger.interval={log}',
        f'log_processor.window_size={log}',
        'val_cfg=None',
        'val_dataloader=None',
        'val_evaluator=None',
        *data_root_options(spec, train=True),
        *spec.cfg_options,
    ]
    cmd = [python, osp.join(REPO_ROOT, 'tools', 'train.py'), spec.config,
           '--work-dir', spec.work_dir]
    if resume is not None:
        cmd += ['--resume', resume]
    return cmd + ['--cfg-options', *options]


def test_command(spec: RunSpec, checkpoint: str,
                 python: str = sys.executable) -> List[str]:
    """The ``tools/test.py`` command of a run.

    Args:
        spec (RunSpec): The run.
        checkpoint (str): The final checkpoint.
        python (str): Interpreter.

    Returns:
        list[str]: The command.
    """
    return [
        python, osp.join(REPO_ROOT, 'tools', 'test.py'), spec.config,
        checkpoint, '--work-dir', osp.join(spec.work_dir, 'test'),
        '--cfg-options', *data_root_options(spec, train=False),
        *spec.cfg_options
    ]
