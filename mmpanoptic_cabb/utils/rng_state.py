"""Snapshots of the global random generators (python, numpy, torch).

A snapshot is made of plain types and numpy arrays only, so it can travel from a data loader
worker to the main process and be stored in a checkpoint that the safe loader of
:mod:`mmpanoptic_cabb.utils.checkpoint` reads (no pickled code). Taking a snapshot never
advances a generator.
"""
import random
from typing import Any, Dict

import numpy as np
import torch


def capture_rng_state(with_cuda: bool = True) -> Dict[str, Any]:
    """The state of python's, numpy's and torch's global generators.

    Args:
        with_cuda (bool): Also record the CUDA generators when CUDA is initialised.

    Returns:
        dict: ``python`` (``random.getstate()``), ``numpy`` (the fields of
        ``np.random.get_state()``), ``torch`` (uint8 array) and, if recorded, ``cuda`` (list of
        uint8 arrays, one per device).
    """
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state = dict(
        python=random.getstate(),
        numpy=dict(name=str(name), keys=np.array(keys, dtype=np.uint32),
                   pos=int(pos), has_gauss=int(has_gauss),
                   cached_gaussian=float(cached)),
        torch=torch.get_rng_state().numpy().copy())
    if with_cuda and torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = [s.numpy().copy() for s in torch.cuda.get_rng_state_all()]
    return state


def restore_rng_state(state: Dict[str, Any]) -> None:
    """Put back a snapshot of :func:`capture_rng_state`.

    Args:
        state (dict): The snapshot.
    """
    version, internal, gauss = state['python']
    random.setstate((version, tuple(internal), gauss))
    np_state = state['numpy']
    np.random.set_state((np_state['name'], np.asarray(np_state['keys'], np.uint32),
                         int(np_state['pos']), int(np_state['has_gauss']),
                         float(np_state['cached_gaussian'])))
    torch.set_rng_state(torch.from_numpy(np.array(state['torch'], dtype=np.uint8)))
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(
            [torch.from_numpy(np.array(s, dtype=np.uint8)) for s in state['cuda']])


def seed_rng(seed: int) -> None:
    """Seed the three global generators as mmengine's ``worker_init_fn`` does.

    Args:
        seed (int): The worker seed.
    """
    np.random.seed(seed)
    random.seed(seed)
    torch.manual_seed(seed)
