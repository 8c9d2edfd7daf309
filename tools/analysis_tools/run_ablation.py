"""Table 1 / Fig. 5 of the paper in miniature: the synthetic variants, a few
seeds each.

Every run is one ``(variant, seed)`` pair: ``tools/train.py`` trains the
variant's config with ``randomness.seed=S`` (so all variants of one seed see
the same class-uniform draws and start from the same weights) and no
validation, then ``tools/test.py`` evaluates the final checkpoint on the val
split. Per run, in ``<work-root>/<config name>/seed<S>/``:

- ``train.log``, ``test.log``: the captured output of both tools
  (``train.log`` gathers every attempt of a resumed run);
- ``iter_<k>.pth``: checkpoints every ``--ckpt-interval`` iterations (the
  last two are kept), the final one among them;
- ``metrics.json``: the final metrics, copied from the JSON that mmengine's
  ``LoggerHook`` writes after testing (``test/<timestamp>/<timestamp>.json``;
  keys without the ``panoptic/`` prefix, NaN written as ``null``), with the
  run's settings and timings;
- ``losses.json``: the training curves (iteration, every loss term, ``lr``,
  ``time``) gathered from mmengine's ``<timestamp>/vis_data/scalars.json``;
  each value is the mean over the ``window`` iterations up to the logged one;
- ``run.json``: the settings the run was started with; ``timing.json``: its
  attempts.

The study is resumable: a run with ``metrics.json`` is skipped, one whose
final checkpoint exists is only tested, one with an intermediate checkpoint
resumes from the latest (``train.py --resume``), the others start afresh.
Stopping the tool (Ctrl-C, SIGTERM) stops its trainings; the same command
continues where it stopped. A work dir started with other settings
(iterations, seed, config, data root, overrides) is an error, never silently
reused.

Runs are queued seed by seed (seed 0 of every variant first) and run
``--jobs`` at a time with ``--threads`` OpenMP/MKL threads each. After every
finished run the report is rewritten:

- ``<out-dir>/table.md``: per variant, PQ, PQ^th, PQ^st, box and mask mAP,
  mIoU, PC, PC^th, PC^st and PQ† as mean ± half the range over its seeds, box
  and mask AP per area-percentile bucket (Fig. 5), and every run's numbers;
- ``<out-dir>/ap_by_size.png``: box and mask AP per bucket, one line per
  variant, error bars = half the range.

Examples::

    # the full study (5 variants, 12 runs of 1200 iterations)
    python tools/analysis_tools/run_ablation.py
    # a quick look: 4 iterations, seed 0 of the CROP variant
    python tools/analysis_tools/run_ablation.py --iters 4 --seeds 0 \\
        --configs configs/synthetic/seamless_hrnet-slim_crop-256_1200i_synthetic.py \\
        --work-root /tmp/ablation_smoke --out-dir /tmp/ablation_smoke/report
    # rebuild table.md and ap_by_size.png from the runs that exist
    python tools/analysis_tools/run_ablation.py --report-only
"""
import argparse
import ast
import glob
import json
import math
import os
import os.path as osp
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Dict, List, Optional, Sequence, Tuple

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = 'tools/analysis_tools/run_ablation.py'

#: The Table 1 variants on the synthetic dataset, in the table's order.
DEFAULT_CONFIGS = tuple(
    osp.join('configs', 'synthetic', name) for name in (
        'seamless_hrnet-slim_full_1200i_synthetic.py',
        'seamless_hrnet-slim_crop-256_1200i_synthetic.py',
        'seamless_hrnet-slim_crop-256-cabb_1200i_synthetic.py',
        'seamless_hrnet-slim_crop-256-isus_1200i_synthetic.py',
        'seamless_hrnet-slim_crop-256-cabb-isus_1200i_synthetic.py',
    ))
#: Variants compared most closely (the baseline and the full method).
THREE_SEED_VARIANTS = ('CROP', 'CROP+CABB+ISUS')
THREE_SEEDS = (0, 1, 2)
TWO_SEEDS = (0, 1)

#: (metric key, column header) of the main table.
TABLE_COLUMNS = (
    ('PQ', 'PQ'),
    ('PQ_th', 'PQ<sup>th</sup>'),
    ('PQ_st', 'PQ<sup>st</sup>'),
    ('bbox_mAP', 'box mAP'),
    ('segm_mAP', 'mask mAP'),
    ('mIoU', 'mIoU'),
    ('PC', 'PC'),
    ('PC_th', 'PC<sup>th</sup>'),
    ('PC_st', 'PC<sup>st</sup>'),
    ('PQ_dagger', 'PQ†'),
)
#: (metric key prefix, name) of the instance AP types.
AP_TYPES = (('bbox', 'box'), ('segm', 'mask'))
BUCKET_KEY = re.compile(r'^(bbox|segm)_mAP_(p[\d.]+-[\d.]+)$')

METRICS_FILE = 'metrics.json'
LOSSES_FILE = 'losses.json'
RUN_FILE = 'run.json'
TIMING_FILE = 'timing.json'
TRAIN_LOG = 'train.log'
TEST_LOG = 'test.log'
LAST_CHECKPOINT = 'last_checkpoint'
#: Settings that must match for a work dir to be reused.
COMPARED_SETTINGS = ('config', 'seed', 'iters', 'data_root', 'cfg_options')
TIMESTAMP_DIR = re.compile(r'^\d{8}_\d{6}$')
CKPT_NAME = re.compile(r'^iter_(\d+)\.pth$')


class AblationError(RuntimeError):
    """A run failed or a work dir cannot be used; the message names it."""


# --------------------------------------------------------------------- paths
def display_path(path: str) -> str:
    """``path`` relative to the repository root when inside it, else absolute.

    Args:
        path (str): Any path.

    Returns:
        str: The path as recorded in metrics and reports.
    """
    path = osp.abspath(path)
    rel = osp.relpath(path, REPO_ROOT)
    return path if rel.startswith('..') else rel


def resolve_path(path: str) -> str:
    """Absolute ``path``: relative to the working directory if it exists
    there, else to the repository root (so defaults work from anywhere).

    Args:
        path (str): A path as given on the command line.

    Returns:
        str: The absolute path.
    """
    if osp.isabs(path) or osp.exists(path):
        return osp.abspath(path)
    candidate = osp.join(REPO_ROOT, path)
    return candidate if osp.exists(candidate) else osp.abspath(path)


# ------------------------------------------------------------------ variants
def variant_name(config: str) -> str:
    """Short variant name from a config file name.

    ``..._full_...`` -> ``FULL``, ``..._crop-256-cabb-isus_...`` ->
    ``CROP+CABB+ISUS`` (numbers dropped); the file name's stem otherwise.

    Args:
        config (str): Config path.

    Returns:
        str: The variant name.
    """
    stem = osp.splitext(osp.basename(config))[0]
    for part in stem.split('_'):
        tokens = part.split('-')
        if tokens[0] in ('full', 'crop'):
            return '+'.join(t.upper() for t in tokens if not t.isdigit())
    return stem


def parse_configs(items: Sequence[str]) -> List[Tuple[str, str]]:
    """``[NAME=]CONFIG`` items to ``(variant, absolute config path)`` pairs.

    Args:
        items (Sequence[str]): Items of ``--configs``.

    Returns:
        list[tuple[str, str]]: Variants in the given order.
    """
    out: List[Tuple[str, str]] = []
    for item in items:
        name, sep, path = item.partition('=')
        if not sep:
            name, path = '', item
        path = resolve_path(path)
        if not osp.isfile(path):
            raise AblationError(f'config not found: {path}')
        name = name or variant_name(path)
        if name in (n for n, _ in out):
            raise AblationError(
                f'two configs are named {name!r}; name them with '
                f'NAME=CONFIG in --configs')
        out.append((name, path))
    stems = [osp.splitext(osp.basename(p))[0] for _, p in out]
    if len(set(stems)) != len(stems):
        raise AblationError(f'configs share a file name: {stems}; their work '
                            'dirs would collide')
    return out


def seeds_per_variant(variants: Sequence[str],
                      seeds: Optional[Sequence[int]] = None,
                      seeds_for: Sequence[str] = ()) -> Dict[str, List[int]]:
    """The seeds of every variant.

    Args:
        variants (Sequence[str]): Variant names.
        seeds (Sequence[int], optional): Seeds for every variant; default
            :data:`THREE_SEEDS` for :data:`THREE_SEED_VARIANTS` and
            :data:`TWO_SEEDS` for the others.
        seeds_for (Sequence[str]): ``VARIANT=S1,S2,...`` overrides.

    Returns:
        dict[str, list[int]]: Sorted, unique seeds per variant.
    """
    out = {}
    for name in variants:
        if seeds is not None:
            out[name] = list(seeds)
        else:
            out[name] = list(THREE_SEEDS if name in THREE_SEED_VARIANTS else
                             TWO_SEEDS)
    for item in seeds_for:
        name, sep, values = item.partition('=')
        if not sep or name not in out:
            raise AblationError(
                f'--seeds-for {item!r}: expected VARIANT=S1,S2 with VARIANT '
                f'among {list(out)}')
        try:
            out[name] = [int(v) for v in values.split(',') if v.strip()]
        except ValueError as exc:
            raise AblationError(f'--seeds-for {item!r}: {exc}') from None
    for name, values in out.items():
        if not values:
            raise AblationError(f'variant {name} has no seeds')
        out[name] = sorted(set(values))
    return out


# -------------------------------------------------------------------- runs
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
        action (str): ``skip`` (metrics exist), ``test`` (final checkpoint
            exists), ``resume`` (from ``checkpoint``), ``fresh`` or
            ``conflict`` (the work dir holds a run with other settings).
        checkpoint (str, optional): The checkpoint to test or resume from.
        reason (str): Why, for the progress output and errors.
    """
    action: str
    checkpoint: Optional[str] = None
    reason: str = ''


def _read_json(path: str) -> Optional[dict]:
    if not osp.isfile(path):
        return None
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError) as exc:
        raise AblationError(f'cannot read {path}: {exc}') from None


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


def plan_run(work_dir: str,
             iters: int,
             settings: Optional[dict] = None) -> RunPlan:
    """Decide how to continue a run from the files in its work dir.

    Pure function of the file-system state:

    - settings recorded in ``run.json`` (or ``metrics.json``) that differ
      from ``settings`` in :data:`COMPARED_SETTINGS` -> ``conflict``;
    - ``metrics.json`` exists -> ``skip``;
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

    Returns:
        RunPlan: The action and, for ``test`` / ``resume``, the checkpoint.
    """
    metrics_path = osp.join(work_dir, METRICS_FILE)
    recorded = _read_json(osp.join(work_dir, RUN_FILE))
    if recorded is None:
        recorded = _read_json(metrics_path)
    if settings is not None and recorded is not None:
        diffs = [
            f'{key}: {recorded.get(key)!r} there, {settings.get(key)!r} now'
            for key in COMPARED_SETTINGS
            if key in recorded and recorded.get(key) != settings.get(key)
        ]
        if diffs:
            return RunPlan('conflict', None,
                           f'{work_dir} holds a run with other settings ('
                           + '; '.join(diffs) + ')')
    if osp.isfile(metrics_path):
        return RunPlan('skip', None, f'{METRICS_FILE} exists')
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


def data_root_options(spec: RunSpec, train: bool) -> List[str]:
    """``--cfg-options`` that point a run at ``spec.data_root``.

    Args:
        spec (RunSpec): The run.
        train (bool): For ``tools/train.py`` (training dataset) or
            ``tools/test.py`` (test dataset and evaluator).

    Returns:
        list[str]: ``key=value`` items.
    """
    root = spec.data_root
    if train:
        return [f'{spec.train_dataset_key}.data_root={root}']
    return [
        f'{spec.test_dataset_key}.data_root={root}',
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


# ------------------------------------------------------------ run outputs
def _finite_or_none(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _dump_json(obj, path: str) -> None:
    """Write JSON atomically (a reader never sees half a file)."""
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(obj, f, indent=1, allow_nan=False)
        f.write('\n')
    os.replace(tmp, path)


def _timestamp_dirs(work_dir: str) -> List[str]:
    """mmengine's ``<timestamp>`` log dirs in ``work_dir``, oldest first."""
    if not osp.isdir(work_dir):
        return []
    return [
        osp.join(work_dir, name) for name in sorted(os.listdir(work_dir))
        if TIMESTAMP_DIR.match(name) and osp.isdir(osp.join(work_dir, name))
    ]


def _strip_prefix(metrics: Dict[str, object]) -> Dict[str, object]:
    """``panoptic/PQ`` -> ``PQ``; keys without a prefix (time) dropped."""
    return {
        key.split('/', 1)[1]: _finite_or_none(value)
        for key, value in metrics.items()
        if '/' in key and isinstance(value, (int, float))
    }


def parse_test_log(text: str) -> Dict[str, float]:
    """Metrics of the last ``Iter(test)`` / ``Epoch(test)`` line of a log.

    A fallback for :func:`read_test_metrics`: the log rounds to 4 digits.

    Args:
        text (str): The log text.

    Returns:
        dict[str, float]: Prefixed metric keys -> values; empty if no line.
    """
    lines = [
        line for line in text.splitlines()
        if 'Iter(test)' in line or 'Epoch(test)' in line
    ]
    if not lines:
        return {}
    out = {}
    for key, value in re.findall(r'([\w.\-]+/[\w.\-]+):\s+(\S+)', lines[-1]):
        try:
            out[key] = float(value)
        except ValueError:
            continue
    return out


def parse_area_buckets(text: str) -> Optional[Dict[str, List[float]]]:
    """The pixel ranges of the AP area buckets, as the metric logs them."""
    found = re.findall(r'AP area buckets \(pixels\): (\{.*\})', text)
    if not found:
        return None
    try:
        return {k: [float(v) for v in rng]
                for k, rng in ast.literal_eval(found[-1]).items()}
    except (ValueError, SyntaxError, TypeError):
        return None


def read_test_metrics(test_dir: str,
                      log_path: Optional[str] = None,
                      not_before: float = 0.0) -> Tuple[dict, str]:
    """Metrics of the latest test in ``test_dir``.

    The structured source is the ``<timestamp>/<timestamp>.json`` that
    mmengine's ``LoggerHook`` dumps after testing (the metric's values, not
    rounded); the last ``Iter(test)`` line of ``log_path`` is the fallback.

    Args:
        test_dir (str): The ``--work-dir`` given to ``tools/test.py``.
        log_path (str, optional): The captured test output.
        not_before (float): Ignore JSON files older than this time stamp.

    Returns:
        tuple[dict, str]: Metrics without the ``panoptic/`` prefix (NaN as
        None) and the source they were read from.
    """
    for folder in reversed(_timestamp_dirs(test_dir)):
        path = osp.join(folder, osp.basename(folder) + '.json')
        if not osp.isfile(path) or osp.getmtime(path) < not_before:
            continue
        with open(path, encoding='utf-8') as f:
            metrics = _strip_prefix(json.load(f))
        if metrics:
            return metrics, display_path(path)
    if log_path is not None and osp.isfile(log_path):
        with open(log_path, encoding='utf-8', errors='replace') as f:
            metrics = _strip_prefix(parse_test_log(f.read()))
        if metrics:
            return metrics, display_path(log_path) + ' (rounded)'
    raise AblationError(f'no test metrics in {test_dir} or {log_path}')


def collect_losses(work_dir: str) -> dict:
    """Training curves of a run from mmengine's ``vis_data/scalars.json``.

    Every attempt (fresh start, resumes) has its own ``<timestamp>`` dir;
    a later attempt's value replaces an earlier one at the same iteration.

    Args:
        work_dir (str): The run's work dir.

    Returns:
        dict: ``iterations`` and, per logged key (``loss*``, ``lr``,
        ``time``, ``data_time``), the list of values (None where missing).
    """
    by_step: Dict[int, dict] = {}
    for folder in _timestamp_dirs(work_dir):
        path = osp.join(folder, 'vis_data', 'scalars.json')
        if not osp.isfile(path):
            continue
        with open(path, encoding='utf-8') as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # a line cut by a killed attempt
                if not any(k.startswith('loss') for k in record):
                    continue
                step = record.get('step', record.get('iter'))
                if step is not None:
                    by_step[int(step)] = record
    keys = sorted({
        k
        for record in by_step.values() for k in record
        if k.startswith('loss') or k in ('lr', 'time', 'data_time')
    })
    steps = sorted(by_step)
    out = dict(iterations=steps)
    for key in keys:
        out[key] = [_finite_or_none(by_step[s].get(key)) for s in steps]
    return out


def _attempt_seconds(attempt: dict, log_path: str) -> float:
    """Seconds of one attempt; a killed one ends at its log's last write."""
    if attempt.get('seconds') is not None:
        return float(attempt['seconds'])
    if osp.isfile(log_path):
        return max(0.0, osp.getmtime(log_path) - attempt['started'])
    return 0.0


def _load_timing(work_dir: str) -> dict:
    timing = _read_json(osp.join(work_dir, TIMING_FILE)) or {}
    timing.setdefault('train', [])
    timing.setdefault('test', [])
    return timing


class ProcessPool:
    """Runs subprocesses for the worker threads and can stop them all."""

    def __init__(self, env: Dict[str, str]):
        self.env = env
        self._lock = threading.Lock()
        self._procs: List[subprocess.Popen] = []
        self.stopping = False

    def run(self, cmd: List[str], log_path: str, append: bool) -> int:
        """Run ``cmd`` with its output in ``log_path``; the exit status.

        Args:
            cmd (list[str]): The command.
            log_path (str): Where stdout and stderr go.
            append (bool): Append to the log instead of replacing it.

        Returns:
            int: The exit status.
        """
        with open(log_path, 'a' if append else 'w', encoding='utf-8') as log:
            log.write(f'$ {shlex.join(cmd)}\n')
            log.flush()
            with self._lock:
                if self.stopping:
                    raise AblationError('stopped')
                proc = subprocess.Popen(cmd, stdout=log,
                                        stderr=subprocess.STDOUT,
                                        env=self.env, cwd=REPO_ROOT)
                self._procs.append(proc)
            try:
                return proc.wait()
            finally:
                with self._lock:
                    self._procs.remove(proc)

    def stop(self) -> None:
        """Terminate every running subprocess (then kill after 20 s)."""
        with self._lock:
            self.stopping = True
            procs = list(self._procs)
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def execute_run(spec: RunSpec, plan: RunPlan, pool: ProcessPool,
                command: str = '') -> dict:
    """Train (fresh or resumed) and/or test one run; write its outputs.

    Args:
        spec (RunSpec): The run.
        plan (RunPlan): From :func:`plan_run`; ``fresh``, ``resume`` or
            ``test``.
        pool (ProcessPool): Runs the tools.
        command (str): The study's command line, recorded in the metrics.

    Returns:
        dict: The content written to ``metrics.json``.
    """
    work = spec.work_dir
    os.makedirs(work, exist_ok=True)
    if not osp.isfile(osp.join(work, RUN_FILE)):
        _dump_json(spec.settings(), osp.join(work, RUN_FILE))
    timing = _load_timing(work)
    train_log = osp.join(work, TRAIN_LOG)
    test_log = osp.join(work, TEST_LOG)
    final = osp.join(work, f'iter_{spec.iters}.pth')
    if plan.action in ('fresh', 'resume'):
        for earlier in timing['train']:  # killed attempts end at their log
            if earlier.get('seconds') is None:
                earlier['seconds'] = _attempt_seconds(earlier, train_log)
                earlier['killed'] = True
        attempt = dict(
            started=time.time(),
            resume_from=osp.basename(plan.checkpoint)
            if plan.checkpoint else None,
            seconds=None,
            returncode=None)
        timing['train'].append(attempt)
        _dump_json(timing, osp.join(work, TIMING_FILE))
        rc = pool.run(
            train_command(spec, plan.checkpoint), train_log, append=True)
        attempt['seconds'] = time.time() - attempt['started']
        attempt['returncode'] = rc
        _dump_json(timing, osp.join(work, TIMING_FILE))
        if rc != 0:
            raise AblationError(f'{spec.name}: training failed (exit {rc}); '
                                f'see {train_log}')
        if not osp.isfile(final):
            raise AblationError(f'{spec.name}: training ended without '
                                f'{final}; see {train_log}')
    elif plan.action != 'test':
        raise AblationError(f'{spec.name}: nothing to execute for plan '
                            f'{plan.action!r}')
    started = time.time()
    rc = pool.run(test_command(spec, final), test_log, append=False)
    test_seconds = time.time() - started
    timing['test'].append(
        dict(started=started, seconds=test_seconds, returncode=rc))
    _dump_json(timing, osp.join(work, TIMING_FILE))
    if rc != 0:
        raise AblationError(f'{spec.name}: testing failed (exit {rc}); see '
                            f'{test_log}')
    metrics, source = read_test_metrics(
        osp.join(work, 'test'), test_log, not_before=started - 1)
    with open(test_log, encoding='utf-8', errors='replace') as f:
        area_buckets = parse_area_buckets(f.read())
    losses = collect_losses(work)
    losses['window'] = min(spec.log_interval, spec.iters)
    _dump_json(losses, osp.join(work, LOSSES_FILE))
    step_times = [t for t in losses.get('time', []) if t is not None]
    attempts = timing['train']
    record = dict(
        spec.settings(),
        checkpoint=osp.basename(final),
        metrics=metrics,
        area_buckets=area_buckets,
        metrics_source=source,
        timing=dict(
            train_seconds=sum(_attempt_seconds(a, train_log)
                              for a in attempts),
            train_attempts=len(attempts),
            seconds_per_iter=(sum(step_times) / len(step_times)
                              if step_times else None),
            test_seconds=test_seconds),
        started_at=_iso(attempts[0]['started'] if attempts else started),
        finished_at=_iso(time.time()),
        command=command)
    _dump_json(record, osp.join(work, METRICS_FILE))
    return record


def _iso(stamp: float) -> str:
    return datetime.fromtimestamp(stamp).isoformat(timespec='seconds')


# -------------------------------------------------------------- aggregation
def mean_spread(values: Sequence[Optional[float]]
                ) -> Tuple[float, float, int]:
    """Mean and half the range of the finite values.

    Args:
        values (Sequence[float | None]): One value per seed; None / NaN are
            left out.

    Returns:
        tuple[float, float, int]: ``(mean, (max - min) / 2, count)``; NaN,
        NaN, 0 without finite values.
    """
    finite = [float(v) for v in values
              if v is not None and math.isfinite(float(v))]
    if not finite:
        return float('nan'), float('nan'), 0
    return (sum(finite) / len(finite), (max(finite) - min(finite)) / 2,
            len(finite))


def bucket_labels(records: Sequence[dict]) -> List[str]:
    """Area-percentile bucket labels present in the records, by lower edge.

    Args:
        records (Sequence[dict]): ``metrics.json`` contents.

    Returns:
        list[str]: e.g. ``['p0-25', 'p25-50', ..., 'p99-100']``.
    """
    labels = {
        match.group(2)
        for record in records for key in record.get('metrics', {})
        for match in [BUCKET_KEY.match(key)] if match
    }
    return sorted(labels, key=lambda s: float(s[1:].split('-')[0]))


def aggregate(records: Sequence[dict],
              variants: Sequence[str]) -> Dict[str, dict]:
    """Per variant: its seeds and ``mean_spread`` of every metric.

    Args:
        records (Sequence[dict]): ``metrics.json`` contents.
        variants (Sequence[str]): Variants in table order; others are
            appended in order of appearance.

    Returns:
        dict[str, dict]: variant -> ``dict(seeds, n, stats)`` with
        ``stats[key] = (mean, spread, count)``. Variants without records are
        left out.
    """
    order = list(variants) + [
        r['variant'] for r in records if r['variant'] not in variants
    ]
    out: Dict[str, dict] = {}
    for name in dict.fromkeys(order):
        runs = sorted((r for r in records if r['variant'] == name),
                      key=lambda r: r['seed'])
        if not runs:
            continue
        keys = dict.fromkeys(k for r in runs for k in r['metrics'])
        out[name] = dict(
            seeds=[r['seed'] for r in runs],
            n=len(runs),
            stats={
                key: mean_spread([r['metrics'].get(key) for r in runs])
                for key in keys
            })
    return out


def format_stat(stat: Optional[Tuple[float, float, int]], n: int,
                digits: int = 1) -> str:
    """``mean ± spread`` of :func:`mean_spread`, ``–`` without values.

    Args:
        stat (tuple, optional): ``(mean, spread, count)``.
        n (int): Seeds of the variant; ``(count/n)`` is appended when some
            seeds have no value.
        digits (int): Decimals.

    Returns:
        str: The table cell.
    """
    if stat is None or stat[2] == 0:
        return '–'
    mean, spread, count = stat
    cell = f'{mean:.{digits}f} ± {spread:.{digits}f}'
    return cell if count == n else f'{cell} ({count}/{n})'


def _fmt_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f'{h}h {m:02d}m' if h else (f'{m}m {s:02d}s' if m else f'{s}s')


def _bucket_title(label: str) -> str:
    return label[1:].replace('-', '–')


def render_table(records: Sequence[dict], variants: Sequence[str],
                 plot_name: Optional[str] = 'ap_by_size.png',
                 digits: int = 1) -> str:
    """The markdown report of the study's runs.

    Args:
        records (Sequence[dict]): ``metrics.json`` contents.
        variants (Sequence[str]): Variants in table order.
        plot_name (str, optional): File name of the plot, linked when given.
        digits (int): Decimals of the aggregated cells.

    Returns:
        str: Markdown.
    """
    agg = aggregate(records, variants)
    buckets = bucket_labels(records)
    commands = list(dict.fromkeys(r.get('command') or '' for r in records))
    iters = sorted({r['iters'] for r in records})
    roots = list(dict.fromkeys(r['data_root'] for r in records))
    overrides = list(dict.fromkeys(
        ' '.join(r.get('cfg_options') or []) for r in records))
    timings = [r.get('timing', {}) for r in records]
    train_total = sum(t.get('train_seconds') or 0.0 for t in timings)
    test_total = sum(t.get('test_seconds') or 0.0 for t in timings)
    starts = [r['started_at'] for r in records if r.get('started_at')]
    ends = [r['finished_at'] for r in records if r.get('finished_at')]
    lines = ['# Table 1 / Fig. 5 in miniature: the synthetic variants', '']
    lines.append('Produced by (from the repository root):')
    lines.append('')
    for cmd in commands:
        lines.append(f'    {cmd or "(command not recorded)"}')
    lines.append('')
    lines.append(
        f'- iterations: {", ".join(map(str, iters))}'
        + (' (**the runs differ in length**)' if len(iters) > 1 else ''))
    lines.append('- seeds: ' + '; '.join(
        f'{name} {",".join(map(str, a["seeds"]))}'
        for name, a in agg.items()))
    lines.append(f'- data root: {", ".join(roots)}')
    if any(overrides):
        lines.append('- extra overrides: ' + '; '.join(
            f'`{o}`' for o in overrides if o))
    span = ''
    if starts and ends:
        seconds = (datetime.fromisoformat(max(ends)) -
                   datetime.fromisoformat(min(starts))).total_seconds()
        span = (f'; {_fmt_seconds(seconds)} from the first run\'s start to '
                'the last run\'s end')
    runs = f'{len(records)} run' + ('s' if len(records) != 1 else '')
    lines.append(f'- training wall time: {_fmt_seconds(train_total)} summed '
                 f'over {runs} (testing '
                 f'{_fmt_seconds(test_total)}){span}')
    lines.append('')
    lines.append(
        'Values in percent on the synthetic val split: **mean ± half the '
        'range, (max − min) / 2, over the n seeds** of each variant '
        '(`(k/n)`: only k seeds have a value). Every number is aggregated '
        'from the runs\' `metrics.json`; the per-run values are listed at '
        'the end.')
    lines.append('')
    header = ['Variant', 'n'] + [title for _, title in TABLE_COLUMNS]
    lines.append('| ' + ' | '.join(header) + ' |')
    lines.append('| --- | --: |' + ' --: |' * len(TABLE_COLUMNS))
    for name, a in agg.items():
        cells = [name, str(a['n'])] + [
            format_stat(a['stats'].get(key), a['n'], digits)
            for key, _ in TABLE_COLUMNS
        ]
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines.append('')
    if buckets:
        lines.append('## AP by object size (Fig. 5)')
        lines.append('')
        lines.append(
            'Box and mask AP per bucket of ground-truth instance area, the '
            'buckets being percentiles of the val instances\' areas (the top '
            'bucket holds 1 % of them). Mean ± half the range over the n '
            'seeds.')
        edges = next((r['area_buckets'] for r in records
                      if r.get('area_buckets')), None)
        if edges:
            lines.append('Bucket areas (pixels, full resolution): ' +
                         ', '.join(f'{_bucket_title(k)}: {v[0]:.0f}–{v[1]:.0f}'
                                   for k, v in edges.items()) + '.')
        lines.append('')
        header = ['Variant', 'AP', 'n'] + [_bucket_title(b) for b in buckets]
        lines.append('| ' + ' | '.join(header) + ' |')
        lines.append('| --- | --- | --: |' + ' --: |' * len(buckets))
        for name, a in agg.items():
            for prefix, title in AP_TYPES:
                cells = [name, title, str(a['n'])] + [
                    format_stat(a['stats'].get(f'{prefix}_mAP_{b}'), a['n'],
                                digits) for b in buckets
                ]
                lines.append('| ' + ' | '.join(cells) + ' |')
        lines.append('')
        if plot_name:
            lines.append(f'![AP by size]({plot_name})')
            lines.append('')
    lines.append('<details><summary>Every run</summary>')
    lines.append('')
    keys = [key for key, _ in TABLE_COLUMNS]
    header = ['Variant', 'seed', 'iters'] + [t for _, t in TABLE_COLUMNS] + [
        'train s', 's / iter', 'test s'
    ]
    lines.append('| ' + ' | '.join(header) + ' |')
    lines.append('| --- | --: | --: |' + ' --: |' * (len(keys) + 3))
    rank = {name: k for k, name in enumerate(agg)}
    for r in sorted(records, key=lambda r: (rank.get(r['variant'], 1e9),
                                            r['seed'])):
        t = r.get('timing', {})
        cells = [r['variant'], str(r['seed']), str(r['iters'])] + [
            '–' if r['metrics'].get(k) is None else
            f'{r["metrics"][k]:.{digits + 1}f}' for k in keys
        ] + [
            '–' if t.get('train_seconds') is None else
            f'{t["train_seconds"]:.0f}',
            '–' if t.get('seconds_per_iter') is None else
            f'{t["seconds_per_iter"]:.2f}',
            '–' if t.get('test_seconds') is None else
            f'{t["test_seconds"]:.0f}',
        ]
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines.append('')
    lines.append('</details>')
    lines.append('')
    return '\n'.join(lines)


def plot_ap_by_size(records: Sequence[dict], variants: Sequence[str],
                    path: str) -> None:
    """Fig. 5: box and mask AP per area-percentile bucket, two panels.

    One line per variant (mean over its seeds), error bars = half the range.

    Args:
        records (Sequence[dict]): ``metrics.json`` contents.
        variants (Sequence[str]): Variants in legend order.
        path (str): Output PNG.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    agg = aggregate(records, variants)
    buckets = bucket_labels(records)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    width = 0.08
    for ax, (prefix, title) in zip(axes, AP_TYPES):
        for k, (name, a) in enumerate(agg.items()):
            offset = (k - (len(agg) - 1) / 2) * width
            xs, means, spreads = [], [], []
            for i, b in enumerate(buckets):
                stat = a['stats'].get(f'{prefix}_mAP_{b}')
                if stat is None or stat[2] == 0:
                    continue
                xs.append(i + offset)
                means.append(stat[0])
                spreads.append(stat[1])
            if xs:
                ax.errorbar(xs, means, yerr=spreads, marker='o', ms=4,
                            capsize=3, lw=1.5, label=f'{name} (n={a["n"]})')
        ax.set_xticks(range(len(buckets)))
        ax.set_xticklabels([_bucket_title(b) for b in buckets])
        ax.set_xlabel('GT instance area percentile')
        ax.set_title(f'{title} AP by object size')
        ax.grid(alpha=0.3)
    axes[0].set_ylabel('AP (%)')
    if agg:
        axes[1].legend(fontsize=8, loc='best')
    iters = sorted({r['iters'] for r in records})
    fig.suptitle(f'synthetic val, {"/".join(map(str, iters))} iterations; '
                 'error bars: half the range over seeds', fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def load_records(work_root: str,
                 configs: Sequence[Tuple[str, str]]) -> List[dict]:
    """``metrics.json`` of every run of ``configs`` under ``work_root``.

    Args:
        work_root (str): The study's work root.
        configs (Sequence[tuple[str, str]]): ``(variant, config path)``.

    Returns:
        list[dict]: The records, their ``variant`` set to the configured
        name.
    """
    records = []
    for name, config in configs:
        stem = osp.splitext(osp.basename(config))[0]
        pattern = osp.join(work_root, stem, 'seed*', METRICS_FILE)
        for path in sorted(glob.glob(pattern)):
            record = _read_json(path)
            if not record or 'metrics' not in record:
                raise AblationError(f'{path} has no metrics')
            record['variant'] = name
            records.append(record)
    return records


def write_report(records: Sequence[dict], variants: Sequence[str],
                 out_dir: str) -> Tuple[str, str]:
    """Write ``table.md`` and ``ap_by_size.png`` to ``out_dir``.

    Args:
        records (Sequence[dict]): ``metrics.json`` contents.
        variants (Sequence[str]): Variants in table order.
        out_dir (str): Output folder (created).

    Returns:
        tuple[str, str]: The two paths.
    """
    os.makedirs(out_dir, exist_ok=True)
    table = osp.join(out_dir, 'table.md')
    plot = osp.join(out_dir, 'ap_by_size.png')
    plot_ap_by_size(records, variants, plot)
    text = render_table(records, variants, plot_name=osp.basename(plot))
    tmp = table + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(text)
    os.replace(tmp, table)
    return table, plot


# --------------------------------------------------------------------- main
def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train and test the Table 1 variants on the synthetic '
        'dataset over a few seeds, and write the table and the AP-by-size '
        'plot (Fig. 5)')
    parser.add_argument(
        '--configs', nargs='+', default=list(DEFAULT_CONFIGS),
        metavar='[NAME=]CONFIG',
        help='variant configs, in table order (default: the five synthetic '
        'variants); the variant name comes from the file name (full -> '
        'FULL, crop-256-cabb -> CROP+CABB) unless given as NAME=CONFIG')
    parser.add_argument(
        '--seeds', nargs='+', type=int, default=None,
        help='seeds of every variant (default: 0 1 2 for CROP and '
        'CROP+CABB+ISUS, 0 1 for the others)')
    parser.add_argument(
        '--seeds-for', action='append', default=[], metavar='VARIANT=S,..',
        help='seeds of one variant, e.g. CROP=0,1,2 (repeatable; applied '
        'after --seeds)')
    parser.add_argument(
        '--iters', type=int, default=None,
        help='training iterations (default: each config\'s max_iters); the '
        'PolyLR decay follows')
    parser.add_argument(
        '--data-root', default='data/synthetic',
        help='dataset root for training, testing and the evaluator')
    parser.add_argument(
        '--work-root', default='work_dirs/ablation',
        help='runs go to WORK_ROOT/<config name>/seed<S>')
    parser.add_argument('--jobs', type=int, default=2,
                        help='trainings run in parallel')
    parser.add_argument(
        '--threads', type=int, default=1,
        help='OMP/MKL threads of every job (OMP_NUM_THREADS etc.)')
    parser.add_argument(
        '--out-dir', default='docs/reproduction',
        help='where table.md and ap_by_size.png are written')
    parser.add_argument(
        '--report-only', action='store_true',
        help='only aggregate the metrics.json files that exist')
    parser.add_argument(
        '--ckpt-interval', type=int, default=200,
        help='checkpoint every N iterations (the last two are kept), so '
        'that a stopped run resumes')
    parser.add_argument(
        '--log-interval', type=int, default=10,
        help='log the losses every N iterations (each value is the mean '
        'over those N)')
    parser.add_argument(
        '--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
        help='extra config overrides passed to both tools/train.py and '
        'tools/test.py, after the study\'s own (e.g. smaller images for a '
        'test)')
    parser.add_argument(
        '--dry-run', action='store_true',
        help='print the plan and the commands; run nothing')
    args = parser.parse_args(argv)
    for name in ('jobs', 'threads', 'ckpt_interval', 'log_interval'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1')
    if args.iters is not None and args.iters < 1:
        parser.error('--iters must be >= 1')
    for item in args.cfg_options:
        if '=' not in item:
            parser.error(f'--cfg-options {item!r}: expected KEY=VALUE')
    return args


def build_specs(configs: Sequence[Tuple[str, str]],
                seeds: Dict[str, List[int]], args: argparse.Namespace
                ) -> List[RunSpec]:
    """The runs of the study (configs are loaded for their defaults).

    Args:
        configs (Sequence[tuple[str, str]]): ``(variant, config path)``.
        seeds (dict[str, list[int]]): Seeds per variant.
        args (argparse.Namespace): Parsed arguments.

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
    specs = []
    for name, config in configs:
        cfg = Config.fromfile(config)
        iters = args.iters or int(cfg.train_cfg.max_iters)
        train_key, test_key = dataset_keys(cfg)
        stem = osp.splitext(osp.basename(config))[0]
        for seed in seeds[name]:
            specs.append(
                RunSpec(
                    variant=name,
                    config=config,
                    seed=seed,
                    iters=iters,
                    work_dir=osp.join(work_root, stem, f'seed{seed}'),
                    data_root=data_root,
                    cfg_options=tuple(args.cfg_options),
                    ckpt_interval=args.ckpt_interval,
                    log_interval=args.log_interval,
                    train_dataset_key=train_key,
                    test_dataset_key=test_key))
    return specs


def _study_command(argv: Sequence[str]) -> str:
    return shlex.join(['python', TOOL, *argv])


def _log(message: str) -> None:
    print(message, flush=True)


def run_study(specs: Sequence[RunSpec], plans: Dict[RunSpec, RunPlan],
              args: argparse.Namespace, command: str,
              on_done: Callable[[], None],
              log: Callable[[str], None] = _log) -> List[str]:
    """Execute the pending runs with ``args.jobs`` workers.

    Args:
        specs (Sequence[RunSpec]): All runs, in queue order.
        plans (dict): Their plans.
        args (argparse.Namespace): Parsed arguments.
        command (str): The study's command line.
        on_done (callable): Called after every finished run (the report).
        log (callable): Progress output.

    Returns:
        list[str]: Error messages of the failed runs.
    """
    total = len(specs)
    pending = [s for s in specs if plans[s].action != 'skip']
    done = total - len(pending)
    env = dict(os.environ)
    for key in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS',
                'NUMEXPR_NUM_THREADS'):
        env[key] = str(args.threads)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (REPO_ROOT, env.get('PYTHONPATH')) if p)
    pool = ProcessPool(env)
    errors: List[str] = []
    durations: List[float] = []

    def work(spec: RunSpec) -> Tuple[dict, float]:
        plan = plans[spec]
        log(f'[ablation] start {spec.name} ({plan.action}'
            + (f' from {osp.basename(plan.checkpoint)}'
               if plan.action == 'resume' else '')
            + f') in {display_path(spec.work_dir)}')
        started = time.time()
        return execute_run(spec, plan, pool, command), time.time() - started

    previous = signal.getsignal(signal.SIGTERM)
    in_main = threading.current_thread() is threading.main_thread()

    def on_term(signum, frame):
        raise KeyboardInterrupt

    if in_main:
        signal.signal(signal.SIGTERM, on_term)
    executor = ThreadPoolExecutor(max_workers=args.jobs)
    try:
        futures = {executor.submit(work, s): s for s in pending}
        remaining = set(futures)
        while remaining:
            finished, remaining = wait(remaining, return_when=FIRST_COMPLETED)
            for future in finished:
                spec = futures[future]
                done += 1
                try:
                    record, seconds = future.result()
                except AblationError as exc:
                    errors.append(str(exc))
                    log(f'[ablation] {done}/{total} FAILED: {exc}')
                    continue
                except Exception as exc:  # noqa: B902 - keep the others going
                    message = (f'{spec.name} ({display_path(spec.work_dir)}):'
                               f' {type(exc).__name__}: {exc}')
                    errors.append(message)
                    log(f'[ablation] {done}/{total} FAILED: {message}')
                    continue
                durations.append(seconds)
                t = record['timing']
                left = total - done
                eta = (sum(durations) / len(durations) * left /
                       max(1, min(args.jobs, left)))
                spi = t['seconds_per_iter']
                pq = record['metrics'].get('PQ')
                log(f'[ablation] {done}/{total} done: {spec.name} in '
                    f'{_fmt_seconds(seconds)} (train '
                    f'{t["train_seconds"]:.0f} s'
                    + (f' at {spi:.2f} s/iter' if spi else '')
                    + f', test {t["test_seconds"]:.0f} s)'
                    + (f', PQ {pq:.1f}' if pq is not None else '')
                    + (f'; ETA {_fmt_seconds(eta)}' if left else ''))
                try:
                    if left:  # the caller reports once more at the end
                        on_done()
                except Exception as exc:  # noqa: B902 - a report is no reason
                    log(f'[ablation] could not write the report: {exc}')
    except KeyboardInterrupt:
        log('[ablation] stopping: terminating the running trainings; run '
            'the same command again to continue')
        pool.stop()
        executor.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        executor.shutdown(wait=True)
        if in_main:
            signal.signal(signal.SIGTERM, previous)
    return errors


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    try:
        configs = parse_configs(args.configs)
        variants = [name for name, _ in configs]
        out_dir = osp.abspath(args.out_dir)
        work_root = osp.abspath(args.work_root)

        def report() -> None:
            records = load_records(work_root, configs)
            if records:
                table, plot = write_report(records, variants, out_dir)
                print(f'[ablation] report: {display_path(table)}, '
                      f'{display_path(plot)} ({len(records)} runs)')
            else:
                print(f'[ablation] no finished run under {work_root} yet')

        if args.report_only:
            report()
            return 0
        seeds = seeds_per_variant(variants, args.seeds, args.seeds_for)
        specs = order_runs(build_specs(configs, seeds, args), variants)
        plans = {s: plan_run(s.work_dir, s.iters, s.settings()) for s in specs}
        conflicts = [
            p.reason for p in plans.values() if p.action == 'conflict'
        ]
        if conflicts:
            raise AblationError(
                'work dirs started with other settings (use another '
                '--work-root or remove them):\n  ' + '\n  '.join(conflicts))
        counts = {}
        for plan in plans.values():
            counts[plan.action] = counts.get(plan.action, 0) + 1
        print(f'[ablation] {len(specs)} runs in {display_path(work_root)}: '
              + ', '.join(f'{v} {k}' for k, v in sorted(counts.items()))
              + f'; {args.jobs} jobs x {args.threads} threads')
        if args.dry_run:
            for spec in specs:
                plan = plans[spec]
                print(f'{spec.name}: {plan.action} ({plan.reason})')
                if plan.action in ('fresh', 'resume'):
                    print('  ' + shlex.join(train_command(spec,
                                                          plan.checkpoint)))
                if plan.action != 'skip':
                    final = osp.join(spec.work_dir, f'iter_{spec.iters}.pth')
                    print('  ' + shlex.join(test_command(spec, final)))
            return 0
        errors = run_study(specs, plans, args, _study_command(argv), report)
        report()
    except AblationError as exc:
        print(f'[ablation] error: {exc}', file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    if errors:
        print('[ablation] failed runs (rerun to retry):\n  '
              + '\n  '.join(errors), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
