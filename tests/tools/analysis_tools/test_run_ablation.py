"""tools/analysis_tools/run_ablation.py and mmpanoptic_cabb.analysis.ablation:
aggregation, report, planning and resumption, the results dir, commands, and
one tiny end-to-end run."""
import json
import math
import os
import os.path as osp
import time
from typing import Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mmengine.config import Config

from mmpanoptic_cabb.analysis.ablation import (commands, common, report,
                                               results, runs, variants)
from tests import REPO_ROOT, load_tool

TOOL = load_tool('analysis_tools', 'run_ablation')
BUCKETS = ('p0-25', 'p25-50', 'p50-75', 'p75-95', 'p95-99', 'p99-100')
CROP_CONFIG = osp.join(REPO_ROOT, 'configs', 'synthetic',
                       'seamless_hrnet-slim_crop-256_1200i_synthetic.py')


def _metrics(base: float, bucket_99=None) -> dict:
    """Every key the table reads, offset from ``base``."""
    columns = report.TABLE_COLUMNS
    metrics = {key: base + k for k, (key, _) in enumerate(columns)}
    for prefix, shift in (('bbox', 0.0), ('segm', -1.0)):
        for k, label in enumerate(BUCKETS):
            metrics[f'{prefix}_mAP_{label}'] = base / 2 + k + shift
        metrics[f'{prefix}_mAP_p99-100'] = bucket_99
    return metrics


def _write_record(root, stem: str, variant: str, seed: int, metrics: dict,
                  iters: int = 8,
                  settings: Optional[dict] = None) -> str:
    folder = osp.join(str(root), stem, f'seed{seed}')
    os.makedirs(folder, exist_ok=True)
    record = dict(
        variant=variant, config=f'configs/{stem}.py', seed=seed, iters=iters,
        data_root='data/synthetic', cfg_options=[], metrics=metrics,
        area_buckets={label: [k * 100.0, k * 100.0 + 99]
                      for k, label in enumerate(BUCKETS)},
        timing=dict(train_seconds=100.0 + seed, train_attempts=1,
                    seconds_per_iter=0.5, test_seconds=10.0),
        started_at='2024-01-01T10:00:00', finished_at='2024-01-01T10:30:00',
        command='python tools/analysis_tools/run_ablation.py --iters 8')
    record.update(settings or {})
    path = osp.join(folder, common.METRICS_FILE)
    with open(path, 'w') as f:
        json.dump(record, f)
    return path


def _row(text: str, *first_cells: str) -> list:
    """Cells of the first table row starting with ``first_cells``."""
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if cells[:len(first_cells)] == list(first_cells):
            return cells
    raise AssertionError(f'no row {first_cells} in\n{text}')


# ---------------------------------------------------------------- aggregation
def test_mean_spread_and_cells():
    assert report.mean_spread([40.0, 42.0]) == (41.0, 1.0, 2)
    assert report.mean_spread([1.0, None, float('nan'), 3.0]) == (2.0, 1.0, 2)
    mean, spread, count = report.mean_spread([None])
    assert math.isnan(mean) and math.isnan(spread) and count == 0
    assert report.format_stat((41.0, 1.0, 2), 2) == '41.0 ± 1.0'
    assert report.format_stat((10.0, 0.0, 1), 2) == '10.0 ± 0.0 (1/2)'
    assert report.format_stat((math.nan, math.nan, 0), 2) == '–'
    assert report.format_stat(None, 2) == '–'


def test_report_from_fake_metrics(tmp_path):
    work = tmp_path / 'work'
    stems = {'CROP': 'slim_crop-256_8i_synthetic',
             'CROP+CABB': 'slim_crop-256-cabb_8i_synthetic'}
    _write_record(work, stems['CROP'], 'CROP', 0, _metrics(40.0, 10.0))
    _write_record(work, stems['CROP'], 'CROP', 1, _metrics(42.0, None))
    _write_record(work, stems['CROP+CABB'], 'CROP+CABB', 0,
                  _metrics(44.0, 20.0))
    _write_record(work, stems['CROP+CABB'], 'CROP+CABB', 1,
                  _metrics(46.0, 30.0))
    configs = []
    for stem in stems.values():  # the names only; configs are not loaded
        path = tmp_path / f'{stem}.py'
        path.write_text('')
        configs.append(str(path))
    out = tmp_path / 'report'
    assert TOOL.main(['--report-only', '--configs', *configs, '--work-root',
                      str(work), '--out-dir', str(out), '--results-dir',
                      str(tmp_path / 'runs')]) == 0
    text = (out / 'table.md').read_text()
    header = _row(text, 'Variant', 'n', 'PQ')
    crop = _row(text, 'CROP', '2')
    cabb = _row(text, 'CROP+CABB', '2')
    col = {title: header.index(title) for _, title in report.TABLE_COLUMNS}
    # PQ: 40, 42 -> 41 ± 1; PQ_th = base + 1; PQ† = base + 9
    assert crop[col['PQ']] == '41.0 ± 1.0'
    assert crop[col['PQ<sup>th</sup>']] == '42.0 ± 1.0'
    assert crop[col['PQ†']] == '50.0 ± 1.0'
    assert cabb[col['PQ']] == '45.0 ± 1.0'
    assert cabb[col['mask mAP']] == '49.0 ± 1.0'
    # per bucket: bbox p0-25 = base / 2; p99-100 missing in one CROP seed
    bucket_header = _row(text, 'Variant', 'AP', 'n')
    crop_box = _row(text, 'CROP', 'box', '2')
    cabb_mask = _row(text, 'CROP+CABB', 'mask', '2')
    assert crop_box[bucket_header.index('0–25')] == '20.5 ± 0.5'
    assert crop_box[bucket_header.index('99–100')] == '10.0 ± 0.0 (1/2)'
    assert cabb_mask[bucket_header.index('25–50')] == '22.5 ± 0.5'
    assert cabb_mask[bucket_header.index('99–100')] == '25.0 ± 5.0'
    # header: command, iterations, seeds, data root, training time
    assert 'run_ablation.py --iters 8' in text
    assert '- iterations: 8' in text
    assert 'CROP 0,1; CROP+CABB 0,1' in text
    assert 'data root: data/synthetic' in text
    assert '6m 42s summed over 4 runs' in text  # 100 + 101 + 100 + 101 s
    assert 'half the range' in text
    png = out / 'ap_by_size.png'
    assert png.is_file() and 5_000 < png.stat().st_size < 300_000
    with open(png, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 30)),
                max_size=8))
def test_active_seconds_is_the_union_length(pairs):
    intervals = [(float(start), float(start + length))
                 for start, length in pairs]
    covered = {t for start, end in intervals
               for t in range(int(start), int(end))}
    assert report.active_seconds(intervals) == len(covered)


def test_report_wall_time_leaves_pauses_out(tmp_path):
    """Two runs side by side in one invocation, a third after a pause in a
    second invocation: the wall time is the active time, and both commands
    are listed."""
    work = tmp_path / 'work'
    stem = 'slim_crop-256_8i_synthetic'
    first = 'python tools/analysis_tools/run_ablation.py --seeds-for CROP=0,1'
    for seed, start, end in ((0, '10:00', '10:30'), (1, '10:10', '10:40')):
        _write_record(work, stem, 'CROP', seed, _metrics(40.0 + seed),
                      settings=dict(started_at=f'2024-01-01T{start}:00',
                                    finished_at=f'2024-01-01T{end}:00',
                                    command=first))
    last = 'python tools/analysis_tools/run_ablation.py'
    _write_record(work, stem, 'CROP', 2, _metrics(44.0),
                  settings=dict(started_at='2024-01-02T09:00:00',
                                finished_at='2024-01-02T09:20:00',
                                command=last))
    config = tmp_path / f'{stem}.py'
    config.write_text('')
    out = tmp_path / 'report'
    assert TOOL.main(['--report-only', '--configs', str(config),
                      '--work-root', str(work), '--out-dir', str(out),
                      '--results-dir', str(tmp_path / 'runs')]) == 0
    text = (out / 'table.md').read_text()
    # 10:00-10:40 and 09:00-09:20 the next day: 40 + 20 min
    assert '1h 00m of wall time with at least one run active' in text
    assert f'    {first}\n' in text and f'    {last}\n' in text
    assert 'trained by 2 invocations' in text


def test_bucket_labels_are_ordered_by_edge():
    records = [dict(metrics={f'bbox_mAP_{b}': 1.0 for b in reversed(BUCKETS)},
                    variant='A', seed=0)]
    records[0]['metrics'].update(bbox_mAP=1.0, bbox_mAP_s=1.0)
    assert report.bucket_labels(records) == list(BUCKETS)


# ------------------------------------------------------------ configuration
def test_variant_names_and_default_seeds():
    names = [variants.variant_name(c) for c in variants.DEFAULT_CONFIGS]
    assert names == ['FULL', 'CROP', 'CROP+CABB', 'CROP+ISUS',
                     'CROP+CABB+ISUS']
    assert variants.variant_name('configs/other.py') == 'other'
    seeds = variants.seeds_per_variant(names)
    assert seeds == {'FULL': [0, 1], 'CROP': [0, 1, 2], 'CROP+CABB': [0, 1],
                     'CROP+ISUS': [0, 1], 'CROP+CABB+ISUS': [0, 1, 2]}
    seeds = variants.seeds_per_variant(names, [1, 0], ['FULL=0,1,2'])
    assert seeds['CROP'] == [0, 1] and seeds['FULL'] == [0, 1, 2]
    with pytest.raises(common.AblationError, match='VARIANT=S1,S2'):
        variants.seeds_per_variant(names, seeds_for=['NOPE=1'])
    configs = variants.parse_configs(
        ['BASE=' + variants.DEFAULT_CONFIGS[1], variants.DEFAULT_CONFIGS[2]])
    assert [n for n, _ in configs] == ['BASE', 'CROP+CABB']
    assert all(osp.isabs(p) and osp.isfile(p) for _, p in configs)
    with pytest.raises(common.AblationError, match='config not found'):
        variants.parse_configs(['configs/missing.py'])


def _spec(tmp_path, variant='CROP', seed=0, iters=10, **kwargs):
    return runs.RunSpec(
        variant=variant, config=CROP_CONFIG, seed=seed, iters=iters,
        work_dir=str(tmp_path / variant / f'seed{seed}'),
        data_root='/data/syn/', **kwargs)


def test_queue_is_seed_major(tmp_path):
    names = ['FULL', 'CROP', 'CROP+CABB+ISUS']
    specs = [_spec(tmp_path, v, s) for v in names for s in (0, 1, 2)
             if not (v == 'FULL' and s == 2)]
    queue = runs.order_runs(specs, names)
    assert [(s.variant, s.seed) for s in queue] == [
        ('FULL', 0), ('CROP', 0), ('CROP+CABB+ISUS', 0), ('FULL', 1),
        ('CROP', 1), ('CROP+CABB+ISUS', 1), ('CROP', 2),
        ('CROP+CABB+ISUS', 2)
    ]


def test_commands(tmp_path):
    spec = _spec(tmp_path, seed=2, iters=1200,
                 cfg_options=('train_dataloader.num_workers=0', ))
    cmd = commands.train_command(spec, python='py')
    assert cmd[:5] == ['py', osp.join(REPO_ROOT, 'tools', 'train.py'),
                       CROP_CONFIG, '--work-dir', spec.work_dir]
    options = cmd[cmd.index('--cfg-options') + 1:]
    for item in ('randomness.seed=2', 'train_cfg.max_iters=1200',
                 'train_cfg.val_interval=1200',
                 'default_hooks.checkpoint.interval=200',
                 'default_hooks.checkpoint.max_keep_ckpts=2',
                 'val_cfg=None', 'val_dataloader=None', 'val_evaluator=None',
                 'train_dataloader.dataset.dataset.data_root=/data/syn/'):
        assert item in options, item
    assert options[-1] == 'train_dataloader.num_workers=0'  # user's last
    assert '--resume' not in cmd
    resumed = commands.train_command(spec, resume='/w/iter_400.pth')
    assert resumed[resumed.index('--resume') + 1] == '/w/iter_400.pth'
    cmd = commands.test_command(spec, '/w/iter_1200.pth', python='py')
    assert cmd[1:4] == [osp.join(REPO_ROOT, 'tools', 'test.py'), CROP_CONFIG,
                        '/w/iter_1200.pth']
    assert cmd[cmd.index('--work-dir') + 1] == osp.join(spec.work_dir, 'test')
    options = cmd[cmd.index('--cfg-options') + 1:]
    assert options == [
        'test_dataloader.dataset.data_root=/data/syn/',
        'test_evaluator.ann_file=/data/syn/annotations/panoptic_val.json',
        'test_evaluator.seg_prefix=/data/syn/annotations/panoptic_val/',
        'train_dataloader.num_workers=0'
    ]
    # short runs: checkpoint and log intervals fit into the run
    short = commands.train_command(_spec(tmp_path, iters=4))
    assert 'default_hooks.checkpoint.interval=4' in short
    assert 'default_hooks.logger.interval=4' in short


def test_dataset_keys_follow_wrappers():
    cfg = Config.fromfile(CROP_CONFIG)
    assert runs.dataset_keys(cfg) == ('train_dataloader.dataset.dataset',
                                      'test_dataloader.dataset')


# ------------------------------------------------------- planning / resuming
def _touch(path, text=''):
    os.makedirs(osp.dirname(str(path)), exist_ok=True)
    with open(str(path), 'w') as f:
        f.write(text)


def test_planner_from_file_system_state(tmp_path):
    root = tmp_path / 'work'
    settings = dict(config='c.py', seed=0, iters=10, data_root='d',
                    cfg_options=[])
    # finished: metrics.json -> skip
    _touch(root / 'done' / 'iter_10.pth')
    _touch(root / 'done' / 'metrics.json', json.dumps(dict(settings)))
    # intermediate checkpoints -> resume from the one last_checkpoint names
    for k in (4, 6):
        _touch(root / 'partial' / f'iter_{k}.pth')
    _touch(root / 'partial' / 'last_checkpoint',
           '/elsewhere/partial/iter_6.pth')
    # no last_checkpoint: the highest earlier checkpoint
    for k in (2, 8):
        _touch(root / 'no_last' / f'iter_{k}.pth')
    # final checkpoint, no metrics -> test only
    _touch(root / 'trained' / 'iter_8.pth')
    _touch(root / 'trained' / 'iter_10.pth')
    _touch(root / 'trained' / 'last_checkpoint', 'iter_10.pth')
    # final checkpoint being written when stopped: last_checkpoint is older
    _touch(root / 'cut' / 'iter_8.pth')
    _touch(root / 'cut' / 'iter_10.pth')
    _touch(root / 'cut' / 'last_checkpoint', str(root / 'cut' / 'iter_8.pth'))
    # started with other settings -> conflict
    _touch(root / 'other' / 'run.json', json.dumps(dict(settings, iters=4)))

    def plan(name):
        return runs.plan_run(str(root / name), 10, settings)

    assert plan('done').action == 'skip'
    assert plan('missing') == runs.RunPlan('fresh', None, 'no checkpoint')
    assert plan('partial').action == 'resume'
    assert plan('partial').checkpoint == str(root / 'partial' / 'iter_6.pth')
    assert plan('no_last').checkpoint == str(root / 'no_last' / 'iter_8.pth')
    assert plan('trained') == runs.RunPlan(
        'test', str(root / 'trained' / 'iter_10.pth'),
        'final checkpoint exists')
    assert plan('cut').action == 'resume'
    assert plan('cut').checkpoint == str(root / 'cut' / 'iter_8.pth')
    conflict = plan('other')
    assert conflict.action == 'conflict'
    assert 'iters: 4 there, 10 now' in conflict.reason
    assert str(root / 'other') in conflict.reason
    # without settings to compare, the recorded ones are not checked
    assert runs.plan_run(str(root / 'other'), 10).action == 'fresh'


def test_study_refuses_work_dirs_with_other_settings(tmp_path,
                                                     tiny_synthetic_root,
                                                     capsys):
    work = tmp_path / 'work'
    stem = osp.splitext(osp.basename(CROP_CONFIG))[0]
    _touch(work / stem / 'seed0' / 'run.json',
           json.dumps(dict(config='x', seed=0, iters=99, data_root='d',
                           cfg_options=[])))
    rc = TOOL.main(['--configs', CROP_CONFIG, '--seeds', '0', '--iters', '2',
                    '--data-root', tiny_synthetic_root, '--work-root',
                    str(work), '--results-dir', str(tmp_path / 'runs'),
                    '--dry-run'])
    assert rc == 1
    err = capsys.readouterr().err
    assert 'other settings' in err and 'seed0' in err


def test_dry_run_prints_plan(tmp_path, tiny_synthetic_root, capsys):
    rc = TOOL.main(['--configs', CROP_CONFIG, '--seeds', '0', '3', '--iters',
                    '2', '--data-root', tiny_synthetic_root, '--work-root',
                    str(tmp_path / 'work'), '--results-dir',
                    str(tmp_path / 'runs'), '--dry-run'])
    assert rc == 0
    out = capsys.readouterr().out
    assert 'CROP seed 0: fresh' in out and 'CROP seed 3: fresh' in out
    assert 'randomness.seed=3' in out and 'tools/test.py' in out
    assert not (tmp_path / 'work').exists()
    assert not (tmp_path / 'runs').exists()


def test_missing_dataset_is_named(tmp_path, capsys):
    rc = TOOL.main(['--configs', CROP_CONFIG, '--data-root',
                    str(tmp_path / 'nothing'), '--results-dir',
                    str(tmp_path / 'runs'), '--dry-run'])
    assert rc == 1
    err = capsys.readouterr().err
    assert 'panoptic_train.json not found' in err
    assert 'make_synthetic_panoptic.py' in err


# -------------------------------------------------------------- results dir
def test_run_only_in_results_dir_is_skipped_and_reported(
        tmp_path, tiny_synthetic_root, capsys):
    """A fresh checkout: no work dir, the run's copy in the results dir."""
    work, res, out = tmp_path / 'work', tmp_path / 'runs', tmp_path / 'report'
    stem = osp.splitext(osp.basename(CROP_CONFIG))[0]
    settings = runs.RunSpec(
        variant='CROP', config=CROP_CONFIG, seed=0, iters=2, work_dir='-',
        data_root=tiny_synthetic_root + '/').settings()
    _write_record(res, stem, 'CROP', 0, _metrics(40.0, 10.0),
                  settings=settings)
    argv = ['--configs', CROP_CONFIG, '--iters', '2', '--data-root',
            tiny_synthetic_root, '--work-root', str(work), '--results-dir',
            str(res), '--out-dir', str(out)]
    assert TOOL.main([*argv, '--seeds', '0', '1', '--dry-run']) == 0
    text = capsys.readouterr().out
    assert f'CROP seed 0: skip (metrics.json exists in {res / stem}' in text
    assert 'CROP seed 1: fresh' in text
    assert 'randomness.seed=1' in text and 'randomness.seed=0' not in text
    assert runs.plan_run(str(work / stem / 'seed0'), 2, settings,
                         str(res / stem / 'seed0')).action == 'skip'
    # a copy made with other settings is never silently reused
    other = runs.plan_run(str(work / stem / 'seed0'), 4, dict(settings,
                                                              iters=4),
                          str(res / stem / 'seed0'))
    assert other.action == 'conflict'
    assert str(res / stem / 'seed0') in other.reason
    assert TOOL.main([*argv, '--report-only']) == 0
    assert _row((out / 'table.md').read_text(), 'CROP', '1')[2] == \
        '40.0 ± 0.0'
    assert not work.exists()


def test_report_only_copies_work_root_results(tmp_path, capsys):
    work, res, out = tmp_path / 'work', tmp_path / 'runs', tmp_path / 'report'
    stem = 'slim_crop-256_8i_synthetic'
    config = tmp_path / f'{stem}.py'  # the name only; it is not loaded
    config.write_text('')
    first = _write_record(work, stem, 'CROP', 0, _metrics(40.0, 10.0))
    _write_record(work, stem, 'CROP', 1, _metrics(42.0, 10.0))
    _write_record(res, stem, 'CROP', 1, _metrics(50.0, 10.0))  # copied
    steps = list(range(1, 3001))
    losses = dict(iterations=steps, loss=[1 / k for k in steps],
                  loss_bbox=[0.5 / k for k in steps], lr=[0.01] * 3000,
                  time=[0.123456789] * 3000, window=1)
    big = osp.join(osp.dirname(first), common.LOSSES_FILE)
    common.dump_json(losses, big)
    assert osp.getsize(big) > results.LOSSES_COPY_MAX_BYTES
    argv = ['--report-only', '--configs', str(config), '--work-root',
            str(work), '--results-dir', str(res), '--out-dir', str(out)]
    assert TOOL.main(argv) == 0
    assert capsys.readouterr().out.count('[ablation] copied') == 1
    copy = res / stem / 'seed0'
    with open(first) as f:
        assert json.loads((copy / 'metrics.json').read_text()) == json.load(f)
    small = json.loads((copy / 'losses.json').read_text())
    assert (copy / 'losses.json').stat().st_size < 200_000
    assert set(small) == set(losses) | {'subsampled_from'}
    assert small['subsampled_from'] == 3000 and small['window'] == 1
    kept = small['iterations']
    assert len(kept) <= 500 and kept[0] == 1 and kept[-1] == 3000
    assert small['loss'] == [1 / k for k in kept]
    assert small['loss_bbox'] == [0.5 / k for k in kept]
    # seed 1 was in the results dir already: kept, and read by the report
    assert json.loads((res / stem / 'seed1' / 'metrics.json').read_text(
    ))['metrics']['PQ'] == 50.0
    assert _row((out / 'table.md').read_text(), 'CROP', '2')[2] == \
        '45.0 ± 5.0'
    assert TOOL.main(argv) == 0  # nothing left to copy
    assert '[ablation] copied' not in capsys.readouterr().out


# -------------------------------------------------------------- run outputs
def test_read_record_names_file_and_missing_keys(tmp_path):
    path = tmp_path / 'crop' / 'seed0' / 'metrics.json'
    _touch(path, json.dumps({'variant': 'CROP', 'metrics': {'PQ': 1.0}}))
    assert results.read_record(str(path))['metrics'] == {'PQ': 1.0}
    with pytest.raises(common.AblationError,
                       match=r'seed0/metrics.json has no iters$'):
        results.read_record(str(path), ('variant', 'iters', 'metrics'))
    _touch(path, 'not json')
    with pytest.raises(common.AblationError, match='seed0/metrics.json'):
        results.read_record(str(path))


def test_read_metrics_and_losses(tmp_path):
    test_dir = tmp_path / 'test'
    _touch(test_dir / '20240101_100000' / '20240101_100000.json',
           json.dumps({'panoptic/PQ': 1.0}))
    _touch(test_dir / '20240101_110000' / '20240101_110000.json',
           '{"panoptic/PQ": 12.345678, "panoptic/bbox_mAP_p99-100": NaN, '
           '"time": 0.5, "data_time": 0.1}')
    metrics, source = results.read_test_metrics(str(test_dir))
    assert metrics == {'PQ': 12.345678, 'bbox_mAP_p99-100': None}
    assert source.endswith('20240101_110000.json')
    # fallback: the last test line of the log (rounded)
    log = tmp_path / 'test.log'
    log.write_text('x - Iter(test) [3/3]    panoptic/PQ: 9.1234  '
                   'panoptic/PQ_th: 1.0000  data_time: 0.0100  time: 1.0\n'
                   "AP area buckets (pixels): {'p0-25': [16.0, 300.5]}\n")
    metrics, source = results.read_test_metrics(
        str(test_dir), str(log), not_before=time.time() + 100)
    assert metrics == {'PQ': 9.1234, 'PQ_th': 1.0}
    assert source.endswith('(rounded)')
    assert results.parse_area_buckets(log.read_text()) == {
        'p0-25': [16.0, 300.5]}
    with pytest.raises(common.AblationError, match='no test metrics'):
        results.read_test_metrics(str(tmp_path / 'none'))

    # two attempts: the resumed one replaces the overlapping iterations
    first = [dict(loss=3.0, loss_bbox=1.0, lr=0.1, time=0.5, iter=k, step=k)
             for k in (2, 4, 6)]
    second = [dict(loss=2.0, loss_bbox=0.5, lr=0.05, time=0.4, iter=k, step=k)
              for k in (6, 8)]
    for stamp, lines in (('20240101_100000', first),
                         ('20240101_120000', second)):
        _touch(tmp_path / 'run' / stamp / 'vis_data' / 'scalars.json',
               '\n'.join(json.dumps(r) for r in lines) + '\n{"loss": 1')
    losses = results.collect_losses(str(tmp_path / 'run'))
    assert losses['iterations'] == [2, 4, 6, 8]
    assert losses['loss'] == [3.0, 3.0, 2.0, 2.0]
    assert losses['loss_bbox'] == [1.0, 1.0, 0.5, 0.5]
    assert set(losses) == {'iterations', 'loss', 'loss_bbox', 'lr', 'time'}


# ------------------------------------------------------------- end to end
def _tiny_options() -> list:
    """The tiny test geometry of tests/tools/tiny_config.py as overrides."""
    cfg = Config.fromfile(CROP_CONFIG)
    train = [s['type'] for s in cfg.train_dataloader.dataset.dataset.pipeline]
    test = [s['type'] for s in cfg.test_dataloader.dataset.pipeline]
    prefix = 'train_dataloader.dataset.dataset.pipeline'
    return [
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        f'{prefix}.{train.index("ISUSResize")}.short_side=128',
        f'{prefix}.{train.index("TruncationAwareRandomCrop")}'
        '.crop_size=(96,96)',
        f'test_dataloader.dataset.pipeline.{test.index("Resize")}'
        '.scale=(1024,128)',
    ]


def test_tiny_study_end_to_end(tmp_path, tiny_synthetic_root):
    """Train 2 iterations + test, then rerun: the run is skipped."""
    work, out = tmp_path / 'work', tmp_path / 'report'
    argv = ['--configs', CROP_CONFIG, '--seeds', '0', '--iters', '2',
            '--data-root', tiny_synthetic_root, '--work-root', str(work),
            '--out-dir', str(out), '--results-dir', str(tmp_path / 'runs'),
            '--jobs', '1', '--ckpt-interval', '1',
            '--log-interval', '1', '--cfg-options', *_tiny_options()]
    assert TOOL.main(argv) == 0
    run = work / osp.splitext(osp.basename(CROP_CONFIG))[0] / 'seed0'
    for name in ('train.log', 'test.log', 'iter_2.pth', 'metrics.json',
                 'losses.json', 'run.json', 'timing.json'):
        assert (run / name).is_file(), name
    copy = tmp_path / 'runs' / run.parent.name / 'seed0'
    for name in ('metrics.json', 'losses.json'):  # copied, small: verbatim
        assert (copy / name).read_text() == (run / name).read_text(), name
    record = json.loads((run / 'metrics.json').read_text())
    assert record['variant'] == 'CROP' and record['seed'] == 0
    assert record['iters'] == 2
    assert record['metrics_source'].endswith('.json')
    assert 0.0 <= record['metrics']['PQ'] <= 100.0
    assert 'bbox_mAP' in record['metrics'] and 'PC_th' in record['metrics']
    assert record['timing']['test_seconds'] > 0
    losses = json.loads((run / 'losses.json').read_text())
    assert losses['iterations'] == [1, 2]
    assert len(losses['loss']) == 2 and 'loss_rpn_cls' in losses
    # the table's PQ is the run's, rounded
    text = (out / 'table.md').read_text()
    assert _row(text, 'CROP', '1')[2] == f'{record["metrics"]["PQ"]:.1f} ± 0.0'
    assert (out / 'ap_by_size.png').is_file()
    # the convergence section reads the run's losses.json; 2 iterations:
    # deciles 8-10 are empty except the 10th (iteration 2)
    assert (out / 'loss_curves.png').is_file()
    assert '## Convergence' in text and '![loss curves](loss_curves.png)' in text
    d10 = losses['loss_cls'][1]
    assert f'nan → nan → {d10:.3f} (–)' in text
    # rerun: nothing left to do, metrics unchanged
    before = (run / 'metrics.json').read_text()
    assert TOOL.main(argv) == 0
    assert (run / 'metrics.json').read_text() == before
    # without metrics, only the test is redone
    (run / 'metrics.json').unlink()
    plan = runs.plan_run(str(run), 2, json.loads((run / 'run.json')
                                                  .read_text()))
    assert plan.action == 'test'


def test_stopping_study_starts_no_queued_run(tmp_path, monkeypatch):
    """SIGTERM while two runs train: the trainings are terminated and none
    of the queued runs is started, even while a slow training still winds
    down (here one that ignores SIGTERM for 6 s)."""
    import argparse
    import signal
    import sys
    from types import SimpleNamespace

    from mmpanoptic_cabb.analysis.ablation import executor
    started = []
    slow = ('import signal, time; signal.signal(signal.SIGTERM, '
            'signal.SIG_IGN); time.sleep(6)')

    def fake_execute_run(spec, plan, pool, command=''):
        started.append(spec.name)
        if spec.name == 'run0':
            while len(started) < 2:
                time.sleep(0.05)
            time.sleep(0.5)  # run1's process is up
            os.kill(os.getpid(), signal.SIGTERM)
            code = 'import time; time.sleep(30)'
        else:
            code = slow
        rc = pool.run([sys.executable, '-c', code],
                      str(tmp_path / f'{spec.name}.log'), append=False)
        raise executor.AblationError(f'{spec.name}: exit {rc}')

    monkeypatch.setattr(executor, 'execute_run', fake_execute_run)
    begin = time.time()
    specs = [
        SimpleNamespace(name=f'run{k}', work_dir=str(tmp_path / f'run{k}'))
        for k in range(5)
    ]
    plans = {id(s): SimpleNamespace(action='fresh') for s in specs}

    class Plans(dict):

        def __getitem__(self, spec):
            return plans[id(spec)]

    with pytest.raises(KeyboardInterrupt):
        executor.run_study(specs, Plans(), argparse.Namespace(
            jobs=2, threads=1), 'cmd', on_done=lambda: None,
            log=lambda message: None)
    assert sorted(started) == ['run0', 'run1']
    assert time.time() - begin < 25  # the sleeping training was terminated
