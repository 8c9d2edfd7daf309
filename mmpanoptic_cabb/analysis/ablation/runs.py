"""The runs of the study: :class:`RunSpec` and :class:`RunPlan`, the planner
over the file-system state, the queue order and the specs of a study.

Every run is one ``(variant, seed)`` pair with its work dir
``<work-root>/<config name>/seed<S>`` and, once finished, a copy of its
``metrics.json`` and ``losses.json`` in ``<results-dir>/<config name>/seed<S>``
(see :mod:`.results`).
"""
import argparse
import os
import os.path as osp
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from .common import (LAST_CHECKPOINT, METRICS_FILE, RUN_FILE, AblationError,
                     display_path, read_json, resolve_path, run_folder)

#: Settings that must match for a work dir (or a copied result) to be reused.
COMPARED_SETTINGS = ('config', 'seed', 'iters', 'data_root', 'cfg_options')
#: A checkpoint's file name; the group is its iteration.
CKPT_NAME = re.compile(r'^iter_(\d+)\.pth$')


@dataclass(frozen=True)
class RunSpec:
    """One training + test run of the study.

    Attributes:
        variant (str): Variant name (table row).
        config (str): Absolute config path.
        seed (int): ``randomness.seed``.
        iters (int): Training iterations.
        work_dir (str): Absolute work dir of the run.
        data_root (str): Absolute dataset root, ending with ``/``.
        cfg_options (tuple[str]): Extra ``key=value`` overrides for both
            tools, applied after the study's own.
        ckpt_interval (int): Checkpoint interval in iterations.
        log_interval (int): Logging interval (and smoothing window).
        train_dataset_key (str): Config key of the innermost training
            dataset (the one holding ``data_root``).
        test_dataset_key (str): Config key of the test dataset.
        results_dir (str, optional): Absolute folder of the run's copied
            ``metrics.json`` and ``losses.json``
            (``<results-dir>/<config name>/seed<S>``); None: no copy.
    """
    variant: str
    config: str
    seed: int
    iters: int
    work_dir: str
    data_root: str
    cfg_options: Tuple[str, ...] = ()
    ckpt_interval: int = 200
    log_interval: int = 10
    train_dataset_key: str = 'train_dataloader.dataset.dataset'
    test_dataset_key: str = 'test_dataloader.dataset'
    results_dir: Optional[str] = None

    @property
    def name(self) -> str:
        """``VARIANT seed S``."""
        return f'{self.variant} seed {self.seed}'

    def settings(self) -> dict:
        """The settings recorded in ``run.json`` and ``metrics.json``."""
        return dict(
            variant=self.variant,
            config=display_path(self.config),
            seed=self.seed,
            iters=self.iters,
            data_root=display_path(self.data_root),
            cfg_options=list(self.cfg_options))


@dataclass(frozen=True)
class RunPlan:
    """What to do for a run, from the state of its work dir.

    Attributes:
        action (str): ``skip`` (metrics exist, in the work dir or copied to
            the results dir), ``test`` (final checkpoint exists), ``resume``
            (from ``checkpoint``), ``fresh`` or ``conflict`` (the work dir
            or the results dir holds a run with other settings).
        checkpoint (str, optional): The checkpoint to test or resume from.
        reason (str): Why, for the progress output and errors.
    """
    action: str
    checkpoint: Optional[str] = None
    reason: str = ''


def _checkpoints(work_dir: str) -> Dict[int, str]:
    """Iteration -> path of the ``iter_<k>.pth`` files in ``work_dir``."""
    found = {}
    if osp.isdir(work_dir):
        for name in os.listdir(work_dir):
            match = CKPT_NAME.match(name)
            if match:
                found[int(match.group(1))] = osp.join(work_dir, name)
    return found


def _last_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``last_checkpoint`` names, if that file exists.

    mmengine writes ``last_checkpoint`` after a checkpoint is saved, so it
    names the last complete one; the name is looked up in ``work_dir``
    (the file may hold a path relative to another working directory).
    """
    path = osp.join(work_dir, LAST_CHECKPOINT)
    if not osp.isfile(path):
        return None
    with open(path, encoding='utf-8') as f:
        named = f.read().strip()
    if not named:
        return None
    candidate = osp.join(work_dir, osp.basename(named))
    return candidate if osp.isfile(candidate) else None


def _conflict(folder: str, recorded: Optional[dict],
              settings: dict) -> Optional[RunPlan]:
    """A ``conflict`` plan if ``recorded`` differs from ``settings``."""
    if recorded is None:
        return None
    diffs = [
        f'{key}: {recorded.get(key)!r} there, {settings.get(key)!r} now'
        for key in COMPARED_SETTINGS
        if key in recorded and recorded.get(key) != settings.get(key)
    ]
    if not diffs:
        return None
    return RunPlan('conflict', None, f'{folder} holds a run with other '
                   'settings (' + '; '.join(diffs) + ')')


def plan_run(work_dir: str,
             iters: int,
             settings: Optional[dict] = None,
             results_dir: Optional[str] = None) -> RunPlan:
    """Decide how to continue a run from the files in its work dir.

    Pure function of the file-system state:

    - settings recorded in ``run.json`` (or ``metrics.json``), or in the
      copied ``metrics.json`` in ``results_dir``, that differ from
      ``settings`` in :data:`COMPARED_SETTINGS` -> ``conflict``;
    - ``metrics.json`` exists in the work dir or in ``results_dir`` (the
      work dir may be gone, e.g. in a fresh checkout) -> ``skip``;
    - ``iter_<iters>.pth`` exists and is the last complete checkpoint (or
      no ``last_checkpoint`` file exists) -> ``test``;
    - another checkpoint exists -> ``resume`` from the one
      ``last_checkpoint`` names, else from the highest ``iter_<k>.pth``
      with ``k < iters``;
    - otherwise -> ``fresh``.

    Args:
        work_dir (str): The run's work dir (need not exist).
        iters (int): The run's final iteration.
        settings (dict, optional): :meth:`RunSpec.settings` to compare with
            the recorded ones; None skips the comparison.
        results_dir (str, optional): The run's folder in the results dir
            (need not exist); None: only the work dir counts.

    Returns:
        RunPlan: The action and, for ``test`` / ``resume``, the checkpoint.
    """
    metrics_path = osp.join(work_dir, METRICS_FILE)
    recorded = read_json(osp.join(work_dir, RUN_FILE))
    if recorded is None:
        recorded = read_json(metrics_path)
    copied = (read_json(osp.join(results_dir, METRICS_FILE))
              if results_dir is not None else None)
    if settings is not None:
        for folder, record in ((work_dir, recorded), (results_dir, copied)):
            conflict = _conflict(folder, record, settings)
            if conflict is not None:
                return conflict
    if osp.isfile(metrics_path):
        return RunPlan('skip', None, f'{METRICS_FILE} exists')
    if copied is not None:
        return RunPlan('skip', None, f'{METRICS_FILE} exists in '
                       f'{display_path(results_dir)}')
    ckpts = _checkpoints(work_dir)
    last = _last_checkpoint(work_dir)
    final = ckpts.get(iters)
    if final is not None and (last is None or osp.basename(last)
                              == osp.basename(final)):
        return RunPlan('test', final, 'final checkpoint exists')
    if last is not None and osp.basename(last) != osp.basename(final or ''):
        match = CKPT_NAME.match(osp.basename(last))
        if match and int(match.group(1)) < iters:
            return RunPlan('resume', last, f'resume from {osp.basename(last)}')
    earlier = [k for k in ckpts if k < iters]
    if earlier:
        path = ckpts[max(earlier)]
        return RunPlan('resume', path, f'resume from {osp.basename(path)}')
    return RunPlan('fresh', None, 'no checkpoint')


def plan_runs(specs: Sequence[RunSpec]) -> Dict[RunSpec, RunPlan]:
    """:func:`plan_run` of every run; an error if any is a ``conflict``.

    Args:
        specs (Sequence[RunSpec]): The runs.

    Returns:
        dict[RunSpec, RunPlan]: The plans, in the order of ``specs``.

    Raises:
        AblationError: Some work dirs or copied results hold runs with other
            settings; the message lists them.
    """
    plans = {
        s: plan_run(s.work_dir, s.iters, s.settings(), s.results_dir)
        for s in specs
    }
    conflicts = [p.reason for p in plans.values() if p.action == 'conflict']
    if conflicts:
        raise AblationError(
            'work dirs or results started with other settings (use another '
            '--work-root / --results-dir or remove them):\n  '
            + '\n  '.join(conflicts))
    return plans


def order_runs(specs: Sequence[RunSpec],
               variants: Sequence[str]) -> List[RunSpec]:
    """Seed by seed, variants in table order within a seed.

    The first results to complete then compare every variant on seed 0.

    Args:
        specs (Sequence[RunSpec]): The runs.
        variants (Sequence[str]): The table order of the variants.

    Returns:
        list[RunSpec]: The queue.
    """
    rank = {name: k for k, name in enumerate(variants)}
    return sorted(specs, key=lambda s: (s.seed, rank.get(s.variant, 1e9)))


def dataset_keys(cfg) -> Tuple[str, str]:
    """Config keys of the innermost training dataset and the test dataset.

    Args:
        cfg (mmengine.Config): A training config.

    Returns:
        tuple[str, str]: e.g. ``('train_dataloader.dataset.dataset',
        'test_dataloader.dataset')`` (dataset wrappers are followed).
    """
    keys = []
    for loader in ('train_dataloader', 'test_dataloader'):
        key, node = f'{loader}.dataset', cfg[loader]['dataset']
        while 'dataset' in node:
            key, node = key + '.dataset', node['dataset']
        keys.append(key)
    return keys[0], keys[1]


def build_specs(configs: Sequence[Tuple[str, str]],
                seeds: Dict[str, List[int]], args: argparse.Namespace
                ) -> List[RunSpec]:
    """The runs of the study (configs are loaded for their defaults).

    Args:
        configs (Sequence[tuple[str, str]]): ``(variant, config path)``.
        seeds (dict[str, list[int]]): Seeds per variant.
        args (argparse.Namespace): Parsed arguments (``data_root``,
            ``work_root``, ``results_dir``, ``iters``, ``cfg_options``,
            ``ckpt_interval``, ``log_interval``).

    Returns:
        list[RunSpec]: One spec per (variant, seed).
    """
    from mmengine.config import Config

    data_root = resolve_path(args.data_root).rstrip('/') + '/'
    if ',' in data_root or ' ' in data_root:
        raise AblationError(f'--data-root {data_root!r}: commas and spaces '
                            'cannot pass through --cfg-options')
    for split in ('train', 'val'):
        ann = osp.join(data_root, 'annotations', f'panoptic_{split}.json')
        if not osp.isfile(ann):
            raise AblationError(
                f'{ann} not found; generate the dataset with python '
                'tools/dataset_converters/make_synthetic_panoptic.py --out '
                f'{display_path(data_root)}')
    work_root = osp.abspath(args.work_root)
    results_root = (osp.abspath(args.results_dir)
                    if args.results_dir else None)
    specs = []
    for name, config in configs:
        cfg = Config.fromfile(config)
        iters = args.iters or int(cfg.train_cfg.max_iters)
        train_key, test_key = dataset_keys(cfg)
        for seed in seeds[name]:
            specs.append(
                RunSpec(
                    variant=name,
                    config=config,
                    seed=seed,
                    iters=iters,
                    work_dir=run_folder(work_root, config, seed),
                    data_root=data_root,
                    cfg_options=tuple(args.cfg_options),
                    ckpt_interval=args.ckpt_interval,
                    log_interval=args.log_interval,
                    train_dataset_key=train_key,
                    test_dataset_key=test_key,
                    results_dir=(run_folder(results_root, config, seed)
                                 if results_root else None)))
    return specs
