"""A run's results: its test metrics, its loss curves, its record and the
copy of both in the results dir.

The work root (``work_dirs/``) does not outlive a checkout, the repository
does: a finished run's ``metrics.json`` and ``losses.json`` are therefore
copied to ``<results-dir>/<config name>/seed<S>/`` (committed), where the
planner finds the run done and the report reads it even when the work dir is
gone. Large loss curves are subsampled in the copy (:func:`copy_results`).
"""
import ast
import glob
import json
import os
import os.path as osp
import re
import shutil
from typing import Dict, List, Optional, Sequence, Tuple

from .common import (LOSSES_FILE, METRICS_FILE, AblationError, display_path,
                     dump_json, finite_or_none, read_json)

TIMESTAMP_DIR = re.compile(r'^\d{8}_\d{6}$')
#: A ``losses.json`` larger than this is subsampled in its copy.
LOSSES_COPY_MAX_BYTES = 200_000
#: At most this many logged iterations per run in a subsampled copy.
LOSSES_COPY_POINTS = 500


# --------------------------------------------------------------- test output
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
        key.split('/', 1)[1]: finite_or_none(value)
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
    """The pixel ranges of the AP area buckets, as the metric logs them.

    Args:
        text (str): The test log text.

    Returns:
        dict[str, list[float]], optional: Bucket label -> ``[low, high]``
        of the last such line; None without one.
    """
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
        out[key] = [finite_or_none(by_step[s].get(key)) for s in steps]
    return out


# --------------------------------------------------------------- results dir
def subsample_losses(losses: dict,
                     points: int = LOSSES_COPY_POINTS) -> dict:
    """``losses`` at no more than ``points`` evenly spaced logged iterations.

    Every curve (every loss term, ``lr``, ``time``...) keeps the same
    iterations, the first and the last among them; each value stays the mean
    over the ``window`` iterations up to its own. Other keys are kept as
    they are; ``subsampled_from`` gives the number of logged iterations.

    Args:
        losses (dict): The content of a ``losses.json``
            (:func:`collect_losses`).
        points (int): The most iterations to keep (>= 2).

    Returns:
        dict: ``losses`` itself when it has no more than ``points``
        iterations, else the subsampled copy.
    """
    count = len(losses.get('iterations', []))
    if count <= points:
        return losses
    keep = sorted({round(k * (count - 1) / (points - 1))
                   for k in range(points)})
    out = {
        key: [value[i] for i in keep]
        if isinstance(value, list) and len(value) == count else value
        for key, value in losses.items()
    }
    out['subsampled_from'] = count
    return out


def _copy_file(src: str, dst: str) -> None:
    """Copy ``src`` to ``dst`` atomically."""
    shutil.copyfile(src, dst + '.tmp')
    os.replace(dst + '.tmp', dst)


def copy_results(work_dir: str, results_dir: str) -> bool:
    """Copy a finished run's ``metrics.json`` and ``losses.json``.

    A ``losses.json`` over :data:`LOSSES_COPY_MAX_BYTES` is copied
    subsampled (:func:`subsample_losses`). ``metrics.json`` is written last:
    in the results dir it marks a finished run.

    Args:
        work_dir (str): The run's work dir.
        results_dir (str): The run's folder in the results dir (created).

    Returns:
        bool: Whether the run was finished (and so copied).
    """
    metrics = osp.join(work_dir, METRICS_FILE)
    if not osp.isfile(metrics):
        return False
    os.makedirs(results_dir, exist_ok=True)
    losses = osp.join(work_dir, LOSSES_FILE)
    if osp.isfile(losses):
        target = osp.join(results_dir, LOSSES_FILE)
        if osp.getsize(losses) > LOSSES_COPY_MAX_BYTES:
            dump_json(subsample_losses(read_json(losses)), target)
        else:
            _copy_file(losses, target)
    _copy_file(metrics, osp.join(results_dir, METRICS_FILE))
    return True


def metrics_paths(root: str, stem: str = '*') -> List[str]:
    """The ``metrics.json`` of the finished runs under ``root``.

    Args:
        root (str): A work root or a results dir
            (``<root>/<config stem>/seed<S>/metrics.json``).
        stem (str): The config stem; ``'*'``: every config.

    Returns:
        list[str]: The paths, sorted.
    """
    return sorted(glob.glob(osp.join(root, stem, 'seed*', METRICS_FILE)))


def _finished_runs(root: str, config: str) -> Dict[str, str]:
    """``seed<S>`` -> ``metrics.json`` of the config's runs under ``root``."""
    stem = osp.splitext(osp.basename(config))[0]
    return {osp.basename(osp.dirname(p)): p
            for p in metrics_paths(root, stem)}


def read_record(path: str,
                required: Sequence[str] = ('metrics', )) -> dict:
    """A run's ``metrics.json``, checked for the keys a reader needs.

    Args:
        path (str): The ``metrics.json``.
        required (Sequence[str]): Keys it must hold.

    Returns:
        dict: The record.

    Raises:
        AblationError: A key is missing (the message names the file and
            the keys).
    """
    record = read_json(path)
    missing = [key for key in required if not record or key not in record]
    if missing:
        raise AblationError(f'{path} has no {", ".join(missing)}')
    return record


def sync_results(work_root: str, results_dir: str,
                 configs: Sequence[Tuple[str, str]]) -> List[str]:
    """Copy the finished runs under ``work_root`` missing in ``results_dir``.

    Args:
        work_root (str): The study's work root.
        results_dir (str): The results dir.
        configs (Sequence[tuple[str, str]]): ``(variant, config path)``.

    Returns:
        list[str]: The work dirs copied.
    """
    copied = []
    for _, config in configs:
        stem = osp.splitext(osp.basename(config))[0]
        present = _finished_runs(results_dir, config)
        for seed_dir, path in sorted(_finished_runs(work_root,
                                                    config).items()):
            if seed_dir in present:
                continue
            read_record(path)
            work_dir = osp.dirname(path)
            copy_results(work_dir, osp.join(results_dir, stem, seed_dir))
            copied.append(work_dir)
    return copied


def load_records(work_root: str,
                 configs: Sequence[Tuple[str, str]],
                 results_dir: Optional[str] = None) -> List[dict]:
    """``metrics.json`` of every finished run of ``configs``.

    A run's copy in ``results_dir`` is read where there is one, else its
    ``metrics.json`` under ``work_root``.

    Args:
        work_root (str): The study's work root.
        configs (Sequence[tuple[str, str]]): ``(variant, config path)``.
        results_dir (str, optional): The results dir; None: only the work
            root.

    Returns:
        list[dict]: The records, their ``variant`` set to the configured
        name and ``record_dir`` to the folder they were read from (where
        the run's ``losses.json`` is).
    """
    records = []
    for name, config in configs:
        found = _finished_runs(work_root, config)
        if results_dir is not None:
            found.update(_finished_runs(results_dir, config))
        for seed_dir in sorted(found):
            record = read_record(found[seed_dir])
            record['variant'] = name
            record['record_dir'] = osp.dirname(found[seed_dir])
            records.append(record)
    return records
