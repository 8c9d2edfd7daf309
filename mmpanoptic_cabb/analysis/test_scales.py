"""One checkpoint tested at several inference scales.

A crop-trained network meets at test time objects larger than any box it
was trained on (the crop cuts them). Testing the same checkpoint with the
shortest side rescaled to several values of ``s0`` shows whether a size
bucket is lost to the objects' size in pixels or to something else: at a
smaller test scale the same objects fit in a training crop.

The sweep runs ``tools/test.py`` once per shortest side, with the test
pipeline's keep-ratio ``Resize`` rescaled (its long-side cap scaled in
proportion), each in its own work dir; a side whose work dir already holds
test metrics is not run again, so a killed sweep continues where it
stopped. The record is plain JSON::

    {"config": ..., "checkpoint": ..., "short_sides": [256, 384, 512],
     "tests": {"256": {"command": "...", "metrics": {...},
                       "source": "..."}, ...}}
"""
import os
import os.path as osp
import shlex
import subprocess
import sys
from typing import Callable, List, Optional, Sequence, Tuple

from mmengine.config import Config

from .ablation.commands import test_data_root_options
from .ablation.common import (REPO_ROOT, AblationError, display_path,
                              dump_json)
from .ablation.results import read_test_metrics
from .ablation.runs import dataset_keys
from .plots import agg_pyplot, bucket_title

#: Pipeline step types that can carry the test scale.
RESIZE_TYPES = ('Resize', 'mmdet.Resize', 'mmcv.Resize')


class ScaleSweepError(RuntimeError):
    """A config or a test that the sweep cannot use."""


def resize_step_index(pipeline: Sequence[dict]) -> int:
    """Index of the keep-ratio ``Resize`` of a test pipeline.

    Args:
        pipeline (Sequence[dict]): The test pipeline's steps.

    Returns:
        int: Index of the only ``Resize`` step with ``keep_ratio=True`` and
        a two-value ``scale``.

    Raises:
        ScaleSweepError: If there is none, or more than one.
    """
    found = [
        k for k, step in enumerate(pipeline)
        if step.get('type') in RESIZE_TYPES and step.get('keep_ratio')
        and isinstance(step.get('scale'), (tuple,
                                           list)) and len(step['scale']) == 2
    ]
    if len(found) != 1:
        types = [step.get('type') for step in pipeline]
        raise ScaleSweepError(
            'the test pipeline needs exactly one keep-ratio Resize with a '
            f'(long, short) scale, found {len(found)} in {types}')
    return found[0]


def rescaled_scale(scale: Sequence[int], short_side: int) -> Tuple[int, int]:
    """A keep-ratio ``Resize`` scale moved to a new shortest side.

    Args:
        scale (Sequence[int]): The config's ``(a, b)``; the smaller value is
            the shortest side, the larger the long-side cap.
        short_side (int): The new shortest side.

    Returns:
        tuple[int, int]: ``scale`` with the shortest side replaced and the
        cap scaled in proportion, in the config's order.
    """
    if short_side <= 0:
        raise ScaleSweepError(f'short side must be positive, got {short_side}')
    short = min(scale)
    if short <= 0:
        raise ScaleSweepError(f'invalid Resize scale {tuple(scale)}')
    long = int(round(max(scale) * short_side / short))
    return ((long, short_side) if scale[0] >= scale[1] else (short_side, long))


def resize_options(cfg: Config, short_side: int) -> List[str]:
    """``--cfg-options`` that test a config at ``short_side``.

    Args:
        cfg (Config): The config.
        short_side (int): The test shortest side.

    Returns:
        list[str]: One ``<dataset>.pipeline.<k>.scale=(long,short)`` item.
    """
    _, test_key = dataset_keys(cfg)
    node = cfg
    for part in test_key.split('.'):
        node = node[part]
    index = resize_step_index(node['pipeline'])
    long, short = rescaled_scale(node['pipeline'][index]['scale'], short_side)
    return [f'{test_key}.pipeline.{index}.scale=({long},{short})']


def scale_test_command(config: str,
                       checkpoint: str,
                       work_dir: str,
                       cfg: Config,
                       short_side: int,
                       data_root: Optional[str] = None,
                       cfg_options: Sequence[str] = (),
                       python: str = sys.executable) -> List[str]:
    """The ``tools/test.py`` command of one shortest side.

    Args:
        config (str): Config path.
        checkpoint (str): Checkpoint path.
        work_dir (str): The test's work dir.
        cfg (Config): The loaded config (to find the test ``Resize``).
        short_side (int): The test shortest side.
        data_root (str, optional): Dataset root to test on.
        cfg_options (Sequence[str]): Further ``key=value`` items.
        python (str): Interpreter.

    Returns:
        list[str]: The command, to run from the repository root (paths
        as :func:`display_path` gives them).
    """
    options = list(resize_options(cfg, short_side))
    if data_root is not None:
        root = display_path(data_root).rstrip('/') + '/'
        options = test_data_root_options(root, dataset_keys(cfg)[1]) + options
    return [
        python,
        display_path(osp.join(REPO_ROOT, 'tools', 'test.py')),
        display_path(config),
        display_path(checkpoint), '--work-dir',
        display_path(work_dir), '--cfg-options', *options, *cfg_options
    ]


def sweep_test_scales(config: str,
                      checkpoint: str,
                      short_sides: Sequence[int],
                      work_dir: str,
                      data_root: Optional[str] = None,
                      cfg_options: Sequence[str] = (),
                      out: Optional[str] = None,
                      run: Optional[Callable[[List[str], str], int]] = None
                      ) -> dict:
    """Test one checkpoint at every shortest side (resumable).

    Args:
        config (str): Config path.
        checkpoint (str): Checkpoint path.
        short_sides (Sequence[int]): Test shortest sides.
        work_dir (str): Root of the tests' work dirs
            (``<work_dir>/short_side_<S>``).
        data_root (str, optional): Dataset root to test on.
        cfg_options (Sequence[str]): Further ``key=value`` items.
        out (str, optional): JSON record, rewritten after every side.
        run (callable, optional): ``run(cmd, log_path) -> returncode``;
            the default runs the command with its output in ``log_path``.

    Returns:
        dict: The record (see the module docstring).

    Raises:
        ScaleSweepError: If a test fails (the sides done so far are kept in
            ``out``).
    """
    if not osp.isfile(checkpoint):
        raise ScaleSweepError(f'checkpoint not found: {checkpoint}')
    run = run or _run_logged
    if out is not None:
        os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    cfg = Config.fromfile(config)
    record = dict(
        config=display_path(config),
        checkpoint=display_path(checkpoint),
        short_sides=[int(s) for s in short_sides],
        tests={})
    for side in record['short_sides']:
        test_dir = osp.join(work_dir, f'short_side_{side}')
        cmd = scale_test_command(config, checkpoint, test_dir, cfg, side,
                                 data_root, cfg_options)
        log_path = test_dir + '.log'
        try:
            metrics, source = read_test_metrics(test_dir)
        except AblationError:
            os.makedirs(work_dir, exist_ok=True)
            if run(cmd, log_path) != 0:
                raise ScaleSweepError(
                    f'test at short side {side} failed, see {log_path}')
            metrics, source = read_test_metrics(test_dir, log_path)
        record['tests'][str(side)] = dict(
            command=' '.join(shlex.quote(c) for c in cmd[1:]),
            metrics=metrics,
            source=source)
        if out is not None:
            dump_json(record, out)
    return record


def metric_by_scale(record: dict, metric: str) -> List[Tuple[int, float]]:
    """``(short side, value)`` of one metric over a sweep's tests.

    Args:
        record (dict): A sweep record.
        metric (str): Metric key without prefix, e.g. ``bbox_mAP_p87-100``.

    Returns:
        list[tuple[int, float]]: By increasing side; sides without the
        metric (or with None) are left out.
    """
    points = []
    for side, test in record['tests'].items():
        value = test['metrics'].get(metric)
        if value is not None:
            points.append((int(side), float(value)))
    return sorted(points)


def plot_metrics_by_scale(series: Sequence[Tuple[str, dict]],
                          metrics: Sequence[str],
                          path: str,
                          title: Optional[str] = None) -> None:
    """One panel per metric: its value against the test shortest side.

    Args:
        series (Sequence[tuple[str, dict]]): ``(label, sweep record)``.
        metrics (Sequence[str]): Metric keys, one panel each.
        path (str): Output PNG.
        title (str, optional): Figure title.
    """
    if not metrics:
        raise ScaleSweepError('no metric to plot')
    plt = agg_pyplot()
    fig, axes = plt.subplots(
        1, len(metrics), squeeze=False, figsize=(3.6 * len(metrics), 3.2))
    for ax, metric in zip(axes[0], metrics):
        for label, record in series:
            points = metric_by_scale(record, metric)
            if points:
                ax.plot(*zip(*points), marker='o', label=label)
        ax.set_title(_metric_title(metric), fontsize=9)
        ax.set_xlabel('test shortest side (px)')
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _metric_title(metric: str) -> str:
    """``bbox_mAP_p95-100`` -> ``box AP, 95–100``."""
    kind, _, rest = metric.partition('_')
    name = dict(bbox='box', segm='mask').get(kind)
    if name is None:
        return metric
    stat, _, bucket = rest.partition('_')
    stat = stat[1:] if stat.startswith('m') else stat
    return f'{name} {stat}, {bucket_title(bucket)}' if bucket else \
        f'{name} {stat}'


def _run_logged(cmd: List[str], log_path: str) -> int:
    with open(log_path, 'w', encoding='utf-8') as log:
        return subprocess.call(
            cmd, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
