"""Process-level helpers of the benchmarks: peak memory, one-core pinning,
a case run in a fresh subprocess, the options every benchmark takes."""
import argparse
import json
import os
import resource
import subprocess
import sys
from typing import Dict, List, Optional

#: Environment of a one-thread subprocess (BLAS/OpenMP pools of one).
ONE_THREAD_ENV = dict(
    OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', OPENBLAS_NUM_THREADS='1')


def peak_rss_mib() -> float:
    """Peak resident set size of this process in MiB (Linux: KiB units)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pin_one_core() -> None:
    """Pin this process to one CPU; cv2 and torch use one thread."""
    import cv2
    import torch
    if hasattr(os, 'sched_setaffinity'):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def registered_scope() -> None:
    """mmdet's default scope with this package's modules registered."""
    from mmengine.registry import init_default_scope

    import mmpanoptic_cabb  # noqa: F401
    init_default_scope('mmdet')


def json_subprocess(script: str,
                    args: List[str],
                    one_thread: bool = True) -> Dict:
    """Run ``python script *args`` in a fresh process; its last stdout line
    is the JSON report of the case, returned as a dict.

    Args:
        script (str): The tool that runs the case (its hidden ``--run-*``
            option).
        args (list[str]): Its arguments.
        one_thread (bool): Limit the BLAS/OpenMP pools to one thread.

    Raises:
        RuntimeError: If the case fails; with its stderr's last lines.
    """
    env = dict(os.environ)
    if one_thread:
        env.update(ONE_THREAD_ENV)
    proc = subprocess.run([sys.executable, script] + args,
                          env=env,
                          capture_output=True,
                          text=True)
    if proc.returncode != 0:
        tail = '\n'.join(proc.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f'benchmark case {args} failed '
                           f'(exit {proc.returncode}):\n{tail}')
    return json.loads(proc.stdout.strip().splitlines()[-1])


def add_sample_arguments(parser: argparse.ArgumentParser,
                         megapixels: Optional[List[float]] = None,
                         instances: Optional[int] = None) -> None:
    """The options of the generated sample(s) and the work folder.

    Args:
        parser (ArgumentParser): The tool's parser.
        megapixels (list[float], optional): Default sizes; several sizes
            may be given when set, one size (the tool's default) otherwise.
        instances (int, optional): Default number of things.
    """
    if megapixels is None:
        parser.add_argument(
            '--megapixels', type=float, help='sample size (megapixels)')
    else:
        parser.add_argument(
            '--megapixels',
            type=float,
            nargs='+',
            default=megapixels,
            help='image sizes (megapixels)')
    parser.add_argument(
        '--instances',
        type=int,
        default=instances,
        help='thing instances drawn in the generated image')
    parser.add_argument(
        '--work-dir', help='where the generated samples go (default: a '
        'temporary folder)')
