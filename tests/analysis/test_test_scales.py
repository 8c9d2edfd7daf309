"""The test-scale sweep: Resize override, resumable runs, record, plot."""
import json
import os
import os.path as osp

import cv2
import pytest
from mmengine.config import Config

from mmpanoptic_cabb.analysis.test_scales import (
    ScaleSweepError, metric_by_scale, plot_metrics_by_scale, rescaled_scale,
    resize_step_index, sweep_test_scales, resize_options)
from mmpanoptic_cabb.utils.errors import ToolInputError
from tests import REPO_ROOT, load_tool

CONFIG = osp.join(REPO_ROOT, 'configs', 'synthetic',
                  'seamless_hrnet-slim_crop-256_1200i_synthetic.py')
PLOT_CLI = load_tool('analysis_tools', 'plot_test_scales')


def test_rescaled_scale_keeps_the_cap_ratio_and_order():
    assert rescaled_scale((4096, 512), 256) == (2048, 256)
    assert rescaled_scale((512, 4096), 384) == (384, 3072)
    with pytest.raises(ScaleSweepError, match='positive'):
        rescaled_scale((4096, 512), 0)


def test_resize_step_index_needs_one_keep_ratio_resize():
    steps = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(2048, 1024), keep_ratio=True),
        dict(type='PackDetInputs')
    ]
    assert resize_step_index(steps) == 1
    with pytest.raises(ScaleSweepError, match='found 0'):
        resize_step_index([steps[0], steps[2]])
    with pytest.raises(ScaleSweepError, match='found 2'):
        resize_step_index(steps[:2] + [steps[1]])
    fixed = dict(type='Resize', scale=(2048, 1024), keep_ratio=False)
    with pytest.raises(ScaleSweepError, match='found 0'):
        resize_step_index([fixed])


def test_options_target_the_config_test_resize():
    cfg = Config.fromfile(CONFIG)
    assert resize_options(
        cfg, 256) == ['test_dataloader.dataset.pipeline.1.scale=(2048,256)']
    # the option, applied as tools/test.py applies it, moves s0 only
    opts = Config.fromfile(CONFIG)
    key, value = resize_options(cfg, 384)[0].split('=')
    opts.merge_from_dict({key: (3072, 384)})
    steps = opts.test_dataloader.dataset.pipeline
    assert steps[1].scale == (3072, 384) and steps[1].keep_ratio
    assert [s.type for s in steps
            ] == [s.type for s in cfg.test_dataloader.dataset.pipeline]


def _fake_test(calls, fail_side=None):
    """A stand-in for tools/test.py: writes mmengine's metrics JSON."""

    def run(cmd, log_path):
        calls.append(cmd)
        work_dir = cmd[cmd.index('--work-dir') + 1]
        option = next(c for c in cmd if '.pipeline.1.scale=' in c)
        side = int(option.rsplit(',', 1)[1].rstrip(')'))
        with open(log_path, 'w') as f:
            f.write('test log\n')
        if side == fail_side:
            return 1
        stamp = osp.join(work_dir, '20261204_000000')
        os.makedirs(stamp)
        with open(osp.join(stamp, '20261204_000000.json'), 'w') as f:
            json.dump(
                {
                    'panoptic/PQ':
                    side / 10.0,
                    'panoptic/bbox_mAP_p95-100':
                    float('nan') if side == 384 else 1000.0 / side,
                    'time':
                    1.0
                }, f)
        return 0

    return run


def test_sweep_records_every_side_and_resumes(tmp_path):
    ckpt = tmp_path / 'iter_10.pth'
    ckpt.write_bytes(b'x')
    out = str(tmp_path / 'sweep.json')
    calls = []
    record = sweep_test_scales(
        CONFIG,
        str(ckpt), [512, 256, 384],
        str(tmp_path / 'tests'),
        data_root='data/synthetic_large',
        cfg_options=['a.b=1'],
        out=out,
        run=_fake_test(calls))
    assert len(calls) == 3
    assert record['short_sides'] == [512, 256, 384]
    assert record['tests']['256']['metrics']['PQ'] == pytest.approx(25.6)
    assert record['tests']['384']['metrics']['bbox_mAP_p95-100'] is None
    cmd = record['tests']['256']['command']
    assert 'test_dataloader.dataset.data_root=data/synthetic_large/' in cmd
    assert cmd.endswith("'test_dataloader.dataset.pipeline.1.scale=(2048,"
                        "256)' a.b=1")
    with open(out) as f:
        assert json.load(f) == record
    # PQ in increasing side order; the NaN side is left out of the curve
    assert metric_by_scale(record, 'PQ') == [(256, 25.6), (384, 38.4),
                                             (512, 51.2)]
    assert metric_by_scale(record, 'bbox_mAP_p95-100') == [
        (256, pytest.approx(3.90625)), (512, pytest.approx(1.953125))
    ]
    # a second sweep reads the finished tests instead of running them
    again = sweep_test_scales(
        CONFIG,
        str(ckpt), [256, 384, 512],
        str(tmp_path / 'tests'),
        out=out,
        run=_fake_test(calls))
    assert len(calls) == 3
    assert again['tests']['512']['metrics'] == record['tests']['512'][
        'metrics']


def test_failed_side_keeps_the_sides_done(tmp_path):
    ckpt = tmp_path / 'iter_10.pth'
    ckpt.write_bytes(b'x')
    out = str(tmp_path / 'sweep.json')
    with pytest.raises(ScaleSweepError, match='short side 384 failed'):
        sweep_test_scales(
            CONFIG,
            str(ckpt), [256, 384, 512],
            str(tmp_path / 'tests'),
            out=out,
            run=_fake_test([], fail_side=384))
    with open(out) as f:
        assert list(json.load(f)['tests']) == ['256']
    with pytest.raises(ScaleSweepError, match='checkpoint not found'):
        sweep_test_scales(CONFIG, str(tmp_path / 'none.pth'), [256],
                          str(tmp_path / 'tests'))


def _record(path, shift):
    record = dict(
        config='c.py',
        checkpoint='k.pth',
        short_sides=[256, 512],
        tests={
            str(s):
            dict(
                command='',
                source='',
                metrics={
                    'PQ': s / 10 + shift,
                    'bbox_mAP_p95-100': shift
                })
            for s in (256, 512)
        })
    path.write_text(json.dumps(record))
    return str(path)


def test_plot_tool_draws_one_panel_per_metric(tmp_path):
    a, b = _record(tmp_path / 'a.json', 0), _record(tmp_path / 'b.json', 5)
    out = str(tmp_path / 'fig' / 'scales.png')
    assert PLOT_CLI.main([
        a, b, '--metrics', 'PQ', 'bbox_mAP_p95-100', '--labels', 'A', 'B',
        '--out', out
    ]) == out
    img = cv2.imread(out)
    assert img is not None and img.shape[1] > img.shape[0] > 100
    with pytest.raises(ToolInputError, match="'segm_mAP'"):
        PLOT_CLI.main([a, '--metrics', 'segm_mAP', '--out', out])
    with pytest.raises(ToolInputError, match='2 labels for 1'):
        PLOT_CLI.main(
            [a, '--metrics', 'PQ', '--labels', 'A', 'B', '--out', out])
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps({'PQ': 1}))
    with pytest.raises(ToolInputError, match='bad.json.*no "tests"'):
        PLOT_CLI.main([str(bad), '--metrics', 'PQ', '--out', out])
    with pytest.raises(ScaleSweepError, match='no metric'):
        plot_metrics_by_scale([('A', json.loads(open(a).read()))], [], out)
