"""tools/analysis_tools/run_ablation.py: aggregation, report, planning and
resumption, commands, and one tiny end-to-end run."""
import json
import math
import os
import os.path as osp
import time

import pytest
from mmengine.config import Config

from tests import REPO_ROOT, load_tool

TOOL = load_tool('analysis_tools', 'run_ablation')
BUCKETS = ('p0-25', 'p25-50', 'p50-75', 'p75-95', 'p95-99', 'p99-100')
CROP_CONFIG = osp.join(REPO_ROOT, 'configs', 'synthetic',
                       'seamless_hrnet-slim_crop-256_1200i_synthetic.py')


def _metrics(base: float, bucket_99=None) -> dict:
    """Every key the table reads, offset from ``base``."""
    metrics = {key: base + k for k, (key, _) in enumerate(TOOL.TABLE_COLUMNS)}
    for prefix, shift in (('bbox', 0.0), ('segm', -1.0)):
        for k, label in enumerate(BUCKETS):
            metrics[f'{prefix}_mAP_{label}'] = base / 2 + k + shift
        metrics[f'{prefix}_mAP_p99-100'] = bucket_99
    return metrics


def _write_record(root, stem: str, variant: str, seed: int, metrics: dict,
                  iters: int = 8) -> str:
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
    path = osp.join(folder, TOOL.METRICS_FILE)
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
    assert TOOL.mean_spread([40.0, 42.0]) == (41.0, 1.0, 2)
    assert TOOL.mean_spread([1.0, None, float('nan'), 3.0]) == (2.0, 1.0, 2)
    mean, spread, count = TOOL.mean_spread([None])
    assert math.isnan(mean) and math.isnan(spread) and count == 0
    assert TOOL.format_stat((41.0, 1.0, 2), 2) == '41.0 ± 1.0'
    assert TOOL.format_stat((10.0, 0.0, 1), 2) == '10.0 ± 0.0 (1/2)'
    assert TOOL.format_stat((math.nan, math.nan, 0), 2) == '–'
    assert TOOL.format_stat(None, 2) == '–'


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
                      str(work), '--out-dir', str(out)]) == 0
    text = (out / 'table.md').read_text()
    header = _row(text, 'Variant', 'n', 'PQ')
    crop = _row(text, 'CROP', '2')
    cabb = _row(text, 'CROP+CABB', '2')
    col = {title: header.index(title) for _, title in TOOL.TABLE_COLUMNS}
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


def test_bucket_labels_are_ordered_by_edge():
    records = [dict(metrics={f'bbox_mAP_{b}': 1.0 for b in reversed(BUCKETS)},
                    variant='A', seed=0)]
    records[0]['metrics'].update(bbox_mAP=1.0, bbox_mAP_s=1.0)
    assert TOOL.bucket_labels(records) == list(BUCKETS)


# ------------------------------------------------------------ configuration
def test_variant_names_and_default_seeds():
    names = [TOOL.variant_name(c) for c in TOOL.DEFAULT_CONFIGS]
    assert names == ['FULL', 'CROP', 'CROP+CABB', 'CROP+ISUS',
                     'CROP+CABB+ISUS']
    assert TOOL.variant_name('configs/other.py') == 'other'
    seeds = TOOL.seeds_per_variant(names)
    assert seeds == {'FULL': [0, 1], 'CROP': [0, 1, 2], 'CROP+CABB': [0, 1],
                     'CROP+ISUS': [0, 1], 'CROP+CABB+ISUS': [0, 1, 2]}
    seeds = TOOL.seeds_per_variant(names, [1, 0], ['FULL=0,1,2'])
    assert seeds['CROP'] == [0, 1] and seeds['FULL'] == [0, 1, 2]
    with pytest.raises(TOOL.AblationError, match='VARIANT=S1,S2'):
        TOOL.seeds_per_variant(names, seeds_for=['NOPE=1'])
    configs = TOOL.parse_configs(
        ['BASE=' + TOOL.DEFAULT_CONFIGS[1], TOOL.DEFAULT_CONFIGS[2]])
    assert [n for n, _ in configs] == ['BASE', 'CROP+CABB']
    assert all(osp.isabs(p) and osp.isfile(p) for _, p in configs)
    with pytest.raises(TOOL.AblationError, match='config not found'):
        TOOL.parse_configs(['configs/missing.py'])


def _spec(tmp_path, variant='CROP', seed=0, iters=10, **kwargs):
    return TOOL.RunSpec(
        variant=variant, config=CROP_CONFIG, seed=seed, iters=iters,
        work_dir=str(tmp_path / variant / f'seed{seed}'),
        data_root='/data/syn/', **kwargs)


def test_queue_is_seed_major(tmp_path):
    variants = ['FULL', 'CROP', 'CROP+CABB+ISUS']
    specs = [_spec(tmp_path, v, s) for v in variants for s in (0, 1, 2)
             if not (v == 'FULL' and s == 2)]
    queue = TOOL.order_runs(specs, variants)
    assert [(s.variant, s.seed) for s in queue] == [
        ('FULL', 0), ('CROP', 0), ('CROP+CABB+ISUS', 0), ('FULL', 1),
        ('CROP', 1), ('CROP+CABB+ISUS', 1), ('CROP', 2),
        ('CROP+CABB+ISUS', 2)
    ]


def test_commands(tmp_path):
    spec = _spec(tmp_path, seed=2, iters=1200,
                 cfg_options=('train_dataloader.num_workers=0', ))
    cmd = TOOL.train_command(spec, python='py')
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
    resumed = TOOL.train_command(spec, resume='/w/iter_400.pth')
    assert resumed[resumed.index('--resume') + 1] == '/w/iter_400.pth'
    cmd = TOOL.test_command(spec, '/w/iter_1200.pth', python='py')
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
    short = TOOL.train_command(_spec(tmp_path, iters=4))
    assert 'default_hooks.checkpoint.interval=4' in short
    assert 'default_hooks.logger.interval=4' in short


def test_dataset_keys_follow_wrappers():
    cfg = Config.fromfile(CROP_CONFIG)
    assert TOOL.dataset_keys(cfg) == ('train_dataloader.dataset.dataset',
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
        return TOOL.plan_run(str(root / name), 10, settings)

    assert plan('done').action == 'skip'
    assert plan('missing') == TOOL.RunPlan('fresh', None, 'no checkpoint')
    assert plan('partial').action == 'resume'
    assert plan('partial').checkpoint == str(root / 'partial' / 'iter_6.pth')
    assert plan('no_last').checkpoint == str(root / 'no_last' / 'iter_8.pth')
    assert plan('trained') == TOOL.RunPlan(
        'test', str(root / 'trained' / 'iter_10.pth'),
        'final checkpoint exists')
    assert plan('cut').action == 'resume'
    assert plan('cut').checkpoint == str(root / 'cut' / 'iter_8.pth')
    conflict = plan('other')
    assert conflict.action == 'conflict'
    assert 'iters: 4 there, 10 now' in conflict.reason
    assert str(root / 'other') in conflict.reason
    # without settings to compare, the recorded ones are not checked
    assert TOOL.plan_run(str(root / 'other'), 10).action == 'fresh'


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
                    str(work), '--dry-run'])
    assert rc == 1
    err = capsys.readouterr().err
    assert 'other settings' in err and 'seed0' in err


def test_dry_run_prints_plan(tmp_path, tiny_synthetic_root, capsys):
    rc = TOOL.main(['--configs', CROP_CONFIG, '--seeds', '0', '3', '--iters',
                    '2', '--data-root', tiny_synthetic_root, '--work-root',
                    str(tmp_path / 'work'), '--dry-run'])
    assert rc == 0
    out = capsys.readouterr().out
    assert 'CROP seed 0: fresh' in out and 'CROP seed 3: fresh' in out
    assert 'randomness.seed=3' in out and 'tools/test.py' in out
    assert not (tmp_path / 'work').exists()


def test_missing_dataset_is_named(tmp_path, capsys):
    rc = TOOL.main(['--configs', CROP_CONFIG, '--data-root',
                    str(tmp_path / 'nothing'), '--dry-run'])
    assert rc == 1
    err = capsys.readouterr().err
    assert 'panoptic_train.json not found' in err
    assert 'make_synthetic_panoptic.py' in err


# -------------------------------------------------------------- run outputs
def test_read_metrics_and_losses(tmp_path):
    test_dir = tmp_path / 'test'
    _touch(test_dir / '20240101_100000' / '20240101_100000.json',
           json.dumps({'panoptic/PQ': 1.0}))
    _touch(test_dir / '20240101_110000' / '20240101_110000.json',
           '{"panoptic/PQ": 12.345678, "panoptic/bbox_mAP_p99-100": NaN, '
           '"time": 0.5, "data_time": 0.1}')
    metrics, source = TOOL.read_test_metrics(str(test_dir))
    assert metrics == {'PQ': 12.345678, 'bbox_mAP_p99-100': None}
    assert source.endswith('20240101_110000.json')
    # fallback: the last test line of the log (rounded)
    log = tmp_path / 'test.log'
    log.write_text('x - Iter(test) [3/3]    panoptic/PQ: 9.1234  '
                   'panoptic/PQ_th: 1.0000  data_time: 0.0100  time: 1.0\n'
                   "AP area buckets (pixels): {'p0-25': [16.0, 300.5]}\n")
    metrics, source = TOOL.read_test_metrics(
        str(test_dir), str(log), not_before=time.time() + 100)
    assert metrics == {'PQ': 9.1234, 'PQ_th': 1.0}
    assert source.endswith('(rounded)')
    assert TOOL.parse_area_buckets(log.read_text()) == {'p0-25': [16.0, 300.5]}
    with pytest.raises(TOOL.AblationError, match='no test metrics'):
        TOOL.read_test_metrics(str(tmp_path / 'none'))

    # two attempts: the resumed one replaces the overlapping iterations
    first = [dict(loss=3.0, loss_bbox=1.0, lr=0.1, time=0.5, iter=k, step=k)
             for k in (2, 4, 6)]
    second = [dict(loss=2.0, loss_bbox=0.5, lr=0.05, time=0.4, iter=k, step=k)
              for k in (6, 8)]
    for stamp, lines in (('20240101_100000', first),
                         ('20240101_120000', second)):
        _touch(tmp_path / 'run' / stamp / 'vis_data' / 'scalars.json',
               '\n'.join(json.dumps(r) for r in lines) + '\n{"loss": 1')
    losses = TOOL.collect_losses(str(tmp_path / 'run'))
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
            '--out-dir', str(out), '--jobs', '1', '--ckpt-interval', '1',
            '--log-interval', '1', '--cfg-options', *_tiny_options()]
    assert TOOL.main(argv) == 0
    run = work / osp.splitext(osp.basename(CROP_CONFIG))[0] / 'seed0'
    for name in ('train.log', 'test.log', 'iter_2.pth', 'metrics.json',
                 'losses.json', 'run.json', 'timing.json'):
        assert (run / name).is_file(), name
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
    # rerun: nothing left to do, metrics unchanged
    before = (run / 'metrics.json').read_text()
    assert TOOL.main(argv) == 0
    assert (run / 'metrics.json').read_text() == before
    # without metrics, only the test is redone
    (run / 'metrics.json').unlink()
    plan = TOOL.plan_run(str(run), 2, json.loads((run / 'run.json')
                                                  .read_text()))
    assert plan.action == 'test'
