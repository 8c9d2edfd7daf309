"""Executing the study: the process pool, one run (train, test, outputs) and
the study loop over the queue.

Per run, in ``<work-root>/<config name>/seed<S>/``, :func:`execute_run`
leaves:

- ``train.log``, ``test.log``: the captured output of both tools
  (``train.log`` gathers every attempt of a resumed run);
- ``iter_<k>.pth``: checkpoints every ``ckpt_interval`` iterations (the
  last two are kept), the final one among them;
- ``metrics.json``: the final metrics (:func:`.results.read_test_metrics`)
  with the run's settings and timings;
- ``losses.json``: the training curves (:func:`.results.collect_losses`);
- ``run.json``: the settings the run was started with; ``timing.json``: its
  attempts;

and copies ``metrics.json`` and ``losses.json`` to the run's folder in the
results dir (:func:`.results.copy_results`).
"""
import argparse
import os
import os.path as osp
import shlex
import signal
import subprocess
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Callable, Dict, List, Sequence, Tuple

from .commands import test_command, train_command
from .common import (LOSSES_FILE, METRICS_FILE, REPO_ROOT, RUN_FILE,
                     TEST_LOG, TIMING_FILE, TRAIN_LOG, AblationError,
                     display_path, dump_json, fmt_seconds, iso, read_json)
from .results import (collect_losses, copy_results, parse_area_buckets,
                      read_test_metrics)
from .runs import RunPlan, RunSpec


def _attempt_seconds(attempt: dict, log_path: str) -> float:
    """Seconds of one attempt; a killed one ends at its log's last write."""
    if attempt.get('seconds') is not None:
        return float(attempt['seconds'])
    if osp.isfile(log_path):
        return max(0.0, osp.getmtime(log_path) - attempt['started'])
    return 0.0


def _load_timing(work_dir: str) -> dict:
    """``timing.json`` of a run (``train`` and ``test`` attempt lists)."""
    timing = read_json(osp.join(work_dir, TIMING_FILE)) or {}
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
        dict: The content written to ``metrics.json`` (and copied, with
        ``losses.json``, to ``spec.results_dir`` when set).
    """
    work = spec.work_dir
    os.makedirs(work, exist_ok=True)
    if not osp.isfile(osp.join(work, RUN_FILE)):
        dump_json(spec.settings(), osp.join(work, RUN_FILE))
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
        dump_json(timing, osp.join(work, TIMING_FILE))
        rc = pool.run(
            train_command(spec, plan.checkpoint), train_log, append=True)
        attempt['seconds'] = time.time() - attempt['started']
        attempt['returncode'] = rc
        dump_json(timing, osp.join(work, TIMING_FILE))
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
    dump_json(timing, osp.join(work, TIMING_FILE))
    if rc != 0:
        raise AblationError(f'{spec.name}: testing failed (exit {rc}); see '
                            f'{test_log}')
    metrics, source = read_test_metrics(
        osp.join(work, 'test'), test_log, not_before=started - 1)
    with open(test_log, encoding='utf-8', errors='replace') as f:
        area_buckets = parse_area_buckets(f.read())
    losses = collect_losses(work)
    losses['window'] = min(spec.log_interval, spec.iters)
    dump_json(losses, osp.join(work, LOSSES_FILE))
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
        started_at=iso(attempts[0]['started'] if attempts else started),
        finished_at=iso(time.time()),
        command=command)
    dump_json(record, osp.join(work, METRICS_FILE))
    if spec.results_dir is not None:
        copy_results(work, spec.results_dir)
    return record


def _log(message: str) -> None:
    """Progress output: a line on stdout, flushed."""
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
        if pool.stopping:  # a queued run picked up while the study stops
            raise AblationError(f'{spec.name}: not started (stopping)')
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
        pool.stopping = True  # refuse new runs before anything else
        raise KeyboardInterrupt

    if in_main:
        signal.signal(signal.SIGTERM, on_term)
    executor = ThreadPoolExecutor(max_workers=args.jobs)
    try:
        futures = {executor.submit(work, s): s for s in pending}
        remaining = set(futures)
        while remaining:
            # A timeout so that the main thread runs the SIGTERM handler
            # within a second even where a blocking wait defers signals.
            finished, remaining = wait(
                remaining, timeout=1.0, return_when=FIRST_COMPLETED)
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
                    f'{fmt_seconds(seconds)} (train '
                    f'{t["train_seconds"]:.0f} s'
                    + (f' at {spi:.2f} s/iter' if spi else '')
                    + f', test {t["test_seconds"]:.0f} s)'
                    + (f', PQ {pq:.1f}' if pq is not None else '')
                    + (f'; ETA {fmt_seconds(eta)}' if left else ''))
                try:
                    if left:  # the caller reports once more at the end
                        on_done()
                except Exception as exc:  # noqa: B902 - a report is no reason
                    log(f'[ablation] could not write the report: {exc}')
    except KeyboardInterrupt:
        log('[ablation] stopping: terminating the running trainings; run '
            'the same command again to continue')
        # No queued run may start once the running ones are terminated.
        executor.shutdown(wait=False, cancel_futures=True)
        pool.stop()
        executor.shutdown(wait=True)
        raise
    finally:
        executor.shutdown(wait=True)
        if in_main:
            signal.signal(signal.SIGTERM, previous)
    return errors

