"""Loading mmengine checkpoints with torch >= 2.6.

torch 2.6 made ``torch.load`` default to ``weights_only=True``. mmengine 0.10.7 calls
``torch.load(filename, map_location=...)`` without the argument, so checkpoints that hold
non-tensor state — the message hub's ``HistoryBuffer`` objects and numpy scalars written by every
training run — cannot be resumed or used with ``load_from``.

This module replaces mmengine's loader for local files (``CheckpointLoader`` scheme ``''``) with one
that keeps the safe loader and allow-lists exactly the types mmengine itself writes. A checkpoint
that needs anything else is refused with an error naming the file and the type; loading it with
full unpickling is an explicit opt-in (``MMPC_UNSAFE_CHECKPOINTS=1``) for files you trust.

A truncated or corrupt file is refused with :class:`CorruptCheckpointError` naming it;
:func:`resumable_checkpoint` picks the newest intact checkpoint of a work directory for
``tools/train.py --resume-fallback``. :func:`save_checkpoint_atomically` and
:func:`write_last_checkpoint` write through a temporary file and a rename, so a kill while
writing never leaves a partial file under a checkpoint's name.
"""
import os
import os.path as osp
import pickle
import re
import zipfile
from typing import Any, List, Optional

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner.checkpoint import CheckpointLoader

from mmpanoptic_cabb.structures.errors import CorruptCheckpointError

UNSAFE_ENV = 'MMPC_UNSAFE_CHECKPOINTS'


def _mmengine_safe_globals() -> List[Any]:
    """Types found in checkpoints written by mmengine's Runner (besides tensors).

    ``getattr`` is needed because ``HistoryBuffer`` pickles its statistics methods as
    ``getattr(HistoryBuffer, name)``. Allowing it is safe under the weights-only unpickler: it can
    fetch attributes, but a fetched callable can only be *called* if it is itself allow-listed.
    """
    safe: List[Any] = [HistoryBuffer, np.ndarray, np.dtype, getattr]
    multiarray = getattr(np, '_core', None)
    multiarray = getattr(multiarray, 'multiarray', None) or np.core.multiarray
    safe += [multiarray._reconstruct, multiarray.scalar]
    # numpy >= 1.25 pickles dtypes through their classes (e.g. Float64DType).
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        safe += [getattr(dtypes, name) for name in dir(dtypes)
                 if name.endswith('DType')]
    return safe


def load_checkpoint_file(filename: str,
                         map_location: Optional[Any] = None) -> Any:
    """Load a local checkpoint with torch's safe unpickler plus mmengine's own types.

    Args:
        filename (str): Path of the checkpoint file.
        map_location: Passed to ``torch.load``.

    Returns:
        The deserialised checkpoint.

    Raises:
        FileNotFoundError: If the file does not exist.
        CorruptCheckpointError: If the file is truncated or corrupt.
        pickle.UnpicklingError: If the file needs types outside the allow-list (the message names
            the file) and ``MMPC_UNSAFE_CHECKPOINTS=1`` is not set.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    with torch.serialization.safe_globals(_mmengine_safe_globals()):
        try:
            return torch.load(filename, map_location=map_location,
                              weights_only=True)
        except (RuntimeError, EOFError, zipfile.BadZipFile) as err:
            raise CorruptCheckpointError(filename, str(err)) from err
        except pickle.UnpicklingError as err:
            if not checkpoint_is_intact(filename):
                raise CorruptCheckpointError(filename, str(err)) from err
            if os.environ.get(UNSAFE_ENV) != '1':
                raise pickle.UnpicklingError(
                    f'checkpoint {filename} holds objects outside the safe '
                    f'allow-list ({err}). If you trust this file, set '
                    f'{UNSAFE_ENV}=1 to load it with full unpickling.'
                ) from err
    print_log(f'{UNSAFE_ENV}=1: loading {filename} with full unpickling',
              logger='current')
    return torch.load(filename, map_location=map_location, weights_only=False)


def register_checkpoint_loader() -> None:
    """Make mmengine use :func:`load_checkpoint_file` for local paths."""
    CheckpointLoader.register_scheme(prefixes='', force=True)(
        load_checkpoint_file)


def checkpoint_is_intact(filename: str) -> bool:
    """Whether a checkpoint file is complete (every member of torch's zip format checks).

    Files in torch's legacy (non-zip) format cannot be checked and count as intact.

    Args:
        filename (str): Path of the checkpoint.

    Returns:
        bool: False for a missing, truncated or corrupt zip file.
    """
    if not osp.isfile(filename):
        return False
    with open(filename, 'rb') as f:
        is_zip_start = f.read(4) == b'PK\x03\x04'
    if not is_zip_start:
        return osp.getsize(filename) > 0
    try:
        with zipfile.ZipFile(filename) as archive:
            return archive.testzip() is None
    except (zipfile.BadZipFile, OSError, EOFError):
        return False


def _step_of(filename: str) -> int:
    found = re.findall(r'(\d+)', osp.basename(filename))
    return int(found[-1]) if found else -1


def resumable_checkpoint(work_dir: str,
                         requested: Optional[str] = None) -> Optional[str]:
    """The newest intact checkpoint, starting from the requested or latest one.

    The candidates are ``requested`` (or the file named by ``work_dir/last_checkpoint``), then
    the ``*.pth`` files of its directory with a smaller step number, newest first. Each broken
    candidate is logged with its name.

    Args:
        work_dir (str): The training's work directory.
        requested (str, optional): The checkpoint asked for; None for the latest.

    Returns:
        str | None: The checkpoint to resume from; None when the work directory has no
        ``last_checkpoint`` and nothing was requested (a fresh start).

    Raises:
        CorruptCheckpointError: If no candidate is intact.
    """
    if requested is None:
        last = osp.join(work_dir, 'last_checkpoint')
        if not osp.isfile(last):
            return None
        with open(last) as f:
            requested = f.read().strip()
    folder = osp.dirname(requested) or '.'
    step = _step_of(requested)
    older = sorted(
        (osp.join(folder, name) for name in os.listdir(folder)
         if name.endswith('.pth') and not name.startswith('.')
         and osp.join(folder, name) != requested
         and _step_of(name) < step),
        key=_step_of, reverse=True) if osp.isdir(folder) else []
    for candidate in [requested] + older:
        if checkpoint_is_intact(candidate):
            if candidate != requested:
                print_log(f'resuming from {candidate} instead', logger='current',
                          level=30)
            return candidate
        print_log(f'checkpoint {candidate} is missing, truncated or corrupt; '
                  'trying the previous one', logger='current', level=30)
    raise CorruptCheckpointError(requested,
                                 'neither it nor an earlier checkpoint in '
                                 f'{folder} is intact')


def _atomic_replace(tmp: str, final: str) -> None:
    with open(tmp, 'rb') as f:
        os.fsync(f.fileno())
    os.replace(tmp, final)


def write_last_checkpoint(work_dir: str, checkpoint: str) -> None:
    """Point ``work_dir/last_checkpoint`` at ``checkpoint`` (temporary file, then rename).

    Args:
        work_dir (str): The work directory.
        checkpoint (str): Path of the checkpoint just written.
    """
    final = osp.join(work_dir, 'last_checkpoint')
    tmp = osp.join(work_dir, '.last_checkpoint.tmp')
    with open(tmp, 'w') as f:
        f.write(checkpoint)
    _atomic_replace(tmp, final)


def save_checkpoint_atomically(runner, out_dir: str, filename: str,
                               **kwargs) -> str:
    """``runner.save_checkpoint`` into a temporary file renamed when complete.

    Only local directories get the rename; other backends are written directly.

    Args:
        runner (Runner): The runner.
        out_dir (str): Directory of the checkpoint.
        filename (str): Its file name.
        **kwargs: Passed to ``runner.save_checkpoint`` (``meta``, ``by_epoch``, ...).

    Returns:
        str: The checkpoint's path.
    """
    final = osp.join(out_dir, filename)
    if not osp.isdir(out_dir):
        runner.save_checkpoint(out_dir, filename, **kwargs)
        return final
    tmp_name = f'.{filename}.tmp'
    runner.save_checkpoint(out_dir, tmp_name, **kwargs)
    tmp = osp.join(out_dir, tmp_name)
    if osp.isfile(tmp):  # only the main process writes
        _atomic_replace(tmp, final)
    return final
