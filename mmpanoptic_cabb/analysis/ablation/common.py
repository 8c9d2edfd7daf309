"""What every module of the ablation study shares: the repository root, the
names of a run's files, paths, JSON helpers, formatting and the error type.
"""
import json
import math
import os
import os.path as osp
from datetime import datetime
from typing import Optional

#: The repository root (holds ``tools/``, ``configs/`` and the package).
REPO_ROOT = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

METRICS_FILE = 'metrics.json'
LOSSES_FILE = 'losses.json'
RUN_FILE = 'run.json'
TIMING_FILE = 'timing.json'
TRAIN_LOG = 'train.log'
TEST_LOG = 'test.log'
LAST_CHECKPOINT = 'last_checkpoint'


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


def run_folder(root: str, config: str, seed: int) -> str:
    """``<root>/<config name>/seed<S>``: a run's folder under a root.

    The work dirs under the work root and the copies under the results dir
    share this layout.

    Args:
        root (str): The work root or the results dir.
        config (str): The config path (its file name without ``.py``
            names the folder).
        seed (int): The run's seed.

    Returns:
        str: The folder (need not exist).
    """
    stem = osp.splitext(osp.basename(config))[0]
    return osp.join(root, stem, f'seed{seed}')


# ---------------------------------------------------------------------- JSON
def finite_or_none(value):
    """``value``, or None for a float NaN / infinity (not valid JSON).

    Args:
        value: Any value.

    Returns:
        The value, or None.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def read_json(path: str) -> Optional[dict]:
    """The JSON content of ``path``; None when the file does not exist.

    Args:
        path (str): A JSON file.

    Returns:
        dict, optional: The content.

    Raises:
        AblationError: The file exists but cannot be read or parsed.
    """
    if not osp.isfile(path):
        return None
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError) as exc:
        raise AblationError(f'cannot read {path}: {exc}') from None


def write_text(text: str, path: str) -> None:
    """Write ``text`` atomically (a reader never sees half a file).

    Args:
        text (str): The content.
        path (str): The file (its folder must exist).
    """
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(text)
    os.replace(tmp, path)


def dump_json(obj, path: str) -> None:
    """Write JSON atomically (NaN is refused: write None instead).

    Args:
        obj: A JSON-serialisable object.
        path (str): The file (its folder must exist).
    """
    write_text(json.dumps(obj, indent=1, allow_nan=False) + '\n', path)


# ---------------------------------------------------------------- formatting
def fmt_seconds(seconds: float) -> str:
    """A duration as ``1h 02m``, ``3m 04s`` or ``5s``.

    Args:
        seconds (float): The duration.

    Returns:
        str: The rounded duration.
    """
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f'{h}h {m:02d}m' if h else (f'{m}m {s:02d}s' if m else f'{s}s')


def iso(stamp: float) -> str:
    """A time stamp as local ISO time to the second.

    Args:
        stamp (float): Seconds since the epoch.

    Returns:
        str: e.g. ``2024-01-01T10:00:00``.
    """
    return datetime.fromtimestamp(stamp).isoformat(timespec='seconds')
