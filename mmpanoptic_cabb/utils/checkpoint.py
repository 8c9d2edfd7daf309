"""Loading mmengine checkpoints with torch >= 2.6.

torch 2.6 made ``torch.load`` default to ``weights_only=True``. mmengine 0.10.7 calls
``torch.load(filename, map_location=...)`` without the argument, so checkpoints that hold
non-tensor state — the message hub's ``HistoryBuffer`` objects and numpy scalars written by every
training run — cannot be resumed or used with ``load_from``.

This module replaces mmengine's loader for local files (``CheckpointLoader`` scheme ``''``) with one
that keeps the safe loader and allow-lists exactly the types mmengine itself writes. A checkpoint
that needs anything else is refused with an error naming the file and the type; loading it with
full unpickling is an explicit opt-in (``MMPC_UNSAFE_CHECKPOINTS=1``) for files you trust.
"""
import os
import os.path as osp
import pickle
from typing import Any, List, Optional

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner.checkpoint import CheckpointLoader

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
        except pickle.UnpicklingError as err:
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
