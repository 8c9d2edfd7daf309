"""Command-line pieces shared by ``tools/train.py``, ``tools/test.py`` and the other tools."""
import argparse
import os
import os.path as osp
import sys
from typing import Callable, List, Optional, Tuple, Type

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from .distributed import init_cpu_distributed
from .errors import ToolInputError
from .runtime import setup_runtime_cfg


def exit_on_input_error(
        main: Callable[[], object],
        errors: Tuple[Type[Exception], ...] = (ToolInputError, )) -> None:
    """Run a tool's ``main``; one of ``errors`` prints ``error: <message>`` to stderr and exits
    with status 1 instead of a traceback (the message names the file, id or field).

    Args:
        main (Callable): The tool's entry point, called without arguments.
        errors (tuple[type]): The input errors to report. Defaults to
            ``(ToolInputError,)``.
    """
    try:
        main()
    except errors as err:
        print(f'error: {err}', file=sys.stderr)
        sys.exit(1)


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--work-dir``, ``--cfg-options``, ``--launcher``, ``--local-rank``.

    Args:
        parser (argparse.ArgumentParser): The tool's parser; its ``config``
            positional argument is added by the tool itself.
    """
    parser.add_argument(
        '--work-dir', help='the directory for logs, checkpoints and metrics '
        '(default: work_dirs/<config name>)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, key=value pairs (xxx=yyy)')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_common_args(parser: argparse.ArgumentParser,
                      argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse, exporting ``LOCAL_RANK`` for launchers that only pass the flag.

    Args:
        parser (argparse.ArgumentParser): A parser with
            :func:`add_common_args` applied.
        argv (list[str], optional): Arguments; ``sys.argv`` when None.

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def load_cfg(args: argparse.Namespace) -> Config:
    """Load ``args.config`` with the launcher, overrides and work dir set.

    Args:
        args (argparse.Namespace): Arguments of :func:`add_common_args` plus
            ``config``.

    Returns:
        Config: The config; the work dir defaults to
        ``work_dirs/<config name>``.
    """
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


def build_runner(cfg: Config) -> Runner:
    """Adapt ``cfg`` to this machine, start CPU distribution, build the runner.

    Args:
        cfg (Config): The fully overridden config.

    Returns:
        Runner: mmengine's runner for ``cfg``.
    """
    setup_runtime_cfg(cfg)
    init_cpu_distributed(cfg)
    return Runner.from_cfg(cfg)


def runner_from_command_line(
        parser: argparse.ArgumentParser,
        apply_args: Callable[[Config, argparse.Namespace], None],
        argv: Optional[List[str]] = None) -> Tuple[argparse.Namespace, Runner]:
    """Parse a tool's command line and build its runner.

    Adds the common arguments to ``parser``, parses, loads the config
    (:func:`load_cfg`), lets the tool apply its own arguments to it and
    builds the runner (:func:`build_runner`).

    Args:
        parser (argparse.ArgumentParser): The tool's parser with its own
            arguments (``config`` included).
        apply_args (Callable[[Config, argparse.Namespace], None]): Applies
            the tool's own arguments to the config, in place.
        argv (list[str], optional): Arguments; ``sys.argv`` when None.

    Returns:
        tuple[argparse.Namespace, Runner]: The parsed arguments and the
        runner.
    """
    add_common_args(parser)
    args = parse_common_args(parser, argv)
    cfg = load_cfg(args)
    apply_args(cfg, args)
    return args, build_runner(cfg)
