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

The work root does not outlive a checkout, the repository does: a finished
run's ``metrics.json`` and ``losses.json`` are copied to
``<results-dir>/<config name>/seed<S>/`` (default ``docs/reproduction/runs``,
committed; a ``losses.json`` over 200 KB is subsampled to 500 logged
iterations in the copy). ``--report-only`` also copies the finished runs of
the work root that the results dir lacks.

The study is resumable: a run with ``metrics.json`` (in its work dir or in
the results dir) is skipped, one whose final checkpoint exists is only
tested, one with an intermediate checkpoint resumes from the latest
(``train.py --resume``), the others start afresh. Stopping the tool (Ctrl-C,
SIGTERM) stops its trainings; the same command continues where it stopped. A
work dir or result started with other settings (iterations, seed, config,
data root, overrides) is an error, never silently reused.

Runs are queued seed by seed (seed 0 of every variant first) and run
``--jobs`` at a time with ``--threads`` OpenMP/MKL threads each. After every
finished run the report is rewritten (from the results dir, else the work
root):

- ``<out-dir>/table.md``: per variant, PQ, PQ^th, PQ^st, box and mask mAP,
  mIoU, PC, PC^th, PC^st and PQ† as mean ± half the range over its seeds, box
  and mask AP per area-percentile bucket (Fig. 5), and every run's numbers;
- ``<out-dir>/ap_by_size.png``: box and mask AP per bucket, one line per
  variant, error bars = half the range.

The logic lives in :mod:`mmpanoptic_cabb.analysis.ablation`; this script is
its command line.

Examples::

    # the full study (5 variants, 12 runs of 1200 iterations)
    python tools/analysis_tools/run_ablation.py
    # a quick look: 4 iterations, seed 0 of the CROP variant
    python tools/analysis_tools/run_ablation.py --iters 4 --seeds 0 \\
        --configs configs/synthetic/seamless_hrnet-slim_crop-256_1200i_synthetic.py \\
        --work-root /tmp/ablation_smoke --out-dir /tmp/ablation_smoke/report \\
        --results-dir /tmp/ablation_smoke/runs
    # rebuild table.md and ap_by_size.png from the runs that exist
    python tools/analysis_tools/run_ablation.py --report-only
"""
import argparse
import os.path as osp
import shlex
import sys
from typing import Optional, Sequence

from mmpanoptic_cabb.analysis.ablation.commands import (test_command,
                                                        train_command)
from mmpanoptic_cabb.analysis.ablation.common import (AblationError,
                                                      display_path)
from mmpanoptic_cabb.analysis.ablation.executor import run_study
from mmpanoptic_cabb.analysis.ablation.report import write_report
from mmpanoptic_cabb.analysis.ablation.results import (load_records,
                                                       sync_results)
from mmpanoptic_cabb.analysis.ablation.runs import (build_specs, order_runs,
                                                    plan_runs)
from mmpanoptic_cabb.analysis.ablation.variants import (DEFAULT_CONFIGS,
                                                        parse_configs,
                                                        seeds_per_variant)

TOOL = 'tools/analysis_tools/run_ablation.py'

#: Integer options, all >= 1 when given: flag -> (default, help).
COUNTS = {
    '--iters': (None, 'training iterations (default: each config\'s '
                'max_iters); the PolyLR decay follows'),
    '--jobs': (2, 'trainings run in parallel'),
    '--threads': (1, 'OMP/MKL threads of every job (OMP_NUM_THREADS etc.)'),
    '--ckpt-interval': (200, 'checkpoint every N iterations (the last two '
                        'are kept), so that a stopped run resumes'),
    '--log-interval': (10, 'log the losses every N iterations (each value is '
                       'the mean over those N)'),
}
#: Folder options: flag -> (default, help).
FOLDERS = {
    '--data-root': ('data/synthetic',
                    'dataset root for training, testing and the evaluator'),
    '--work-root': ('work_dirs/ablation',
                    'runs go to WORK_ROOT/<config name>/seed<S>'),
    '--results-dir': ('docs/reproduction/runs',
                      'finished runs\' metrics.json and losses.json are '
                      'copied to RESULTS_DIR/<config name>/seed<S> (kept in '
                      'the repository; a run there counts as done)'),
    '--out-dir': ('docs/reproduction',
                  'where table.md and ap_by_size.png are written'),
}
#: Switches: flag -> help.
SWITCHES = {
    '--report-only': 'only aggregate the metrics.json files that exist '
    '(copying the work root\'s finished runs to the results dir)',
    '--dry-run': 'print the plan and the commands; run nothing',
}


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """The study's arguments, checked.

    Args:
        argv (Sequence[str], optional): Arguments; ``sys.argv`` when None.

    Returns:
        argparse.Namespace: The parsed arguments.
    """
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
    for flag, (default, text) in COUNTS.items():
        parser.add_argument(flag, type=int, default=default, help=text)
    for flag, (default, text) in FOLDERS.items():
        parser.add_argument(flag, default=default, help=text)
    for flag, text in SWITCHES.items():
        parser.add_argument(flag, action='store_true', help=text)
    parser.add_argument(
        '--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
        help='extra config overrides passed to both tools/train.py and '
        'tools/test.py, after the study\'s own (e.g. smaller images for a '
        'test)')
    args = parser.parse_args(argv)
    for flag in COUNTS:
        value = getattr(args, flag[2:].replace('-', '_'))
        if value is not None and value < 1:
            parser.error(f'{flag} must be >= 1')
    for item in args.cfg_options:
        if '=' not in item:
            parser.error(f'--cfg-options {item!r}: expected KEY=VALUE')
    return args


def _study_command(argv: Sequence[str]) -> str:
    """The study's command line as recorded in the metrics."""
    return shlex.join(['python', TOOL, *argv])


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run (or plan, or only report) the study.

    Args:
        argv (Sequence[str], optional): Arguments; ``sys.argv[1:]`` when
            None.

    Returns:
        int: The exit status: 0, 1 on errors or failed runs, 130 when
        stopped.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    try:
        configs = parse_configs(args.configs)
        variants = [name for name, _ in configs]
        out_dir = osp.abspath(args.out_dir)
        work_root = osp.abspath(args.work_root)
        results_dir = osp.abspath(args.results_dir)

        def report(sync: bool = False) -> None:
            if sync:  # no run in progress: nothing is being copied now
                for work_dir in sync_results(work_root, results_dir,
                                             configs):
                    print(f'[ablation] copied {display_path(work_dir)} to '
                          f'{display_path(results_dir)}')
            records = load_records(work_root, configs, results_dir)
            if records:
                table, plot = write_report(records, variants, out_dir)
                print(f'[ablation] report: {display_path(table)}, '
                      f'{display_path(plot)} ({len(records)} runs)')
            else:
                print(f'[ablation] no finished run under {work_root} or '
                      f'{results_dir} yet')

        if args.report_only:
            report(sync=True)
            return 0
        seeds = seeds_per_variant(variants, args.seeds, args.seeds_for)
        specs = order_runs(build_specs(configs, seeds, args), variants)
        plans = plan_runs(specs)
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
        report(sync=True)
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
