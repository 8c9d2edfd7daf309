"""tools/analysis_tools/plot_schedules.py and its module
(:mod:`mmpanoptic_cabb.analysis.ablation.schedules`): metrics against the
training schedule, over several results dirs."""
import json

import cv2
import pytest

from mmpanoptic_cabb.analysis.ablation.common import AblationError
from mmpanoptic_cabb.analysis.ablation.schedules import (read_results_dir,
                                                          schedule_series)
from mmpanoptic_cabb.utils.errors import ToolInputError
from tests import load_tool

CLI = load_tool('analysis_tools', 'plot_schedules')
BUCKETS = {'p0-25': [1, 400], 'p25-50': [400, 1500], 'p50-100': [1500, 9e5]}


def _run(results_dir, stem, variant, seed, iters, **metrics):
    folder = results_dir / stem / f'seed{seed}'
    folder.mkdir(parents=True)
    (folder / 'metrics.json').write_text(json.dumps(dict(
        variant=variant, seed=seed, iters=iters, metrics=metrics,
        area_buckets=BUCKETS)))


@pytest.fixture
def study(tmp_path):
    """Two budgets: CROP (2 seeds each) and CROP+CABB (1 seed, then 2)."""
    short, long = tmp_path / 'runs_4000i', tmp_path / 'runs_6000i'
    _run(short, 'crop', 'CROP', 0, 4000, PQ=70.0, **{'bbox_mAP_p50-100': 4.0})
    _run(short, 'crop', 'CROP', 1, 4000, PQ=74.0, **{'bbox_mAP_p50-100': 6.0})
    _run(short, 'cabb', 'CROP+CABB', 0, 4000, PQ=73.0,
         **{'bbox_mAP_p50-100': 8.0})
    _run(long, 'crop', 'CROP', 0, 6000, PQ=75.0, **{'bbox_mAP_p50-100': 5.0})
    _run(long, 'crop', 'CROP', 1, 6000, PQ=None, **{'bbox_mAP_p50-100': 9.0})
    _run(long, 'cabb', 'CROP+CABB', 0, 6000, PQ=76.0,
         **{'bbox_mAP_p50-100': 10.0})
    _run(long, 'cabb', 'CROP+CABB', 1, 6000, PQ=78.0,
         **{'bbox_mAP_p50-100': 12.0})
    return short, long


def test_series_per_budget(study):
    records = read_results_dir(str(study[0])) + read_results_dir(
        str(study[1]))
    assert len(records) == 7
    assert schedule_series(records, 'CROP', 'bbox_mAP_p50-100') == [
        (4000, (5.0, 4.0, 6.0, 2)), (6000, (7.0, 5.0, 9.0, 2))]
    # A missing value is left out of its budget's range.
    assert schedule_series(records, 'CROP', 'PQ') == [
        (4000, (72.0, 70.0, 74.0, 2)), (6000, (75.0, 75.0, 75.0, 1))]
    assert schedule_series(records, 'CROP+CABB', 'PQ') == [
        (4000, (73.0, 73.0, 73.0, 1)), (6000, (77.0, 76.0, 78.0, 2))]
    assert schedule_series(records, 'FULL', 'PQ') == []


def test_cli_prints_the_values_and_writes_the_png(study, tmp_path):
    out = tmp_path / 'plots' / 'schedules.png'
    lines = CLI.main([str(study[0]), str(study[1]), '--out', str(out),
                      '--metrics', 'PQ', 'bbox_mAP_<largest>'])
    assert lines == [
        'CROP PQ 4000: 72.0 (70.0-74.0), n=2',
        'CROP PQ 6000: 75.0 (75.0-75.0), n=1',
        'CROP bbox_mAP_p50-100 4000: 5.0 (4.0-6.0), n=2',
        'CROP bbox_mAP_p50-100 6000: 7.0 (5.0-9.0), n=2',
        'CROP+CABB PQ 4000: 73.0 (73.0-73.0), n=1',
        'CROP+CABB PQ 6000: 77.0 (76.0-78.0), n=2',
        'CROP+CABB bbox_mAP_p50-100 4000: 8.0 (8.0-8.0), n=1',
        'CROP+CABB bbox_mAP_p50-100 6000: 11.0 (10.0-12.0), n=2',
        f'wrote {out}',
    ]
    image = cv2.imread(str(out))
    assert image is not None and image.shape[0] == 320
    assert image.shape[1] == 640


def test_default_order_is_the_tables():
    assert CLI.default_order(['X', 'CROP+CABB', 'FULL', 'CROP', 'CROP',
                              'A']) == ['FULL', 'CROP', 'CROP+CABB', 'A',
                                        'X']


def test_titles_name_the_bucket():
    records = [dict(variant='CROP', iters=1,
                    metrics={f'segm_mAP_{b}': 1.0 for b in BUCKETS})]
    assert CLI.resolve_metrics(
        ['PQ', 'bbox_mAP', 'segm_mAP_<largest>', 'bbox_mAP_p0-25'],
        records) == [('PQ', 'PQ'), ('bbox_mAP', 'box mAP'),
                     ('segm_mAP_p50-100', 'mask AP 50–100'),
                     ('bbox_mAP_p0-25', 'box AP 0–25')]
    with pytest.raises(ToolInputError, match='no run has bucket APs'):
        CLI.resolve_metrics(['bbox_mAP_<largest>'],
                            [dict(variant='CROP', iters=1,
                                  metrics={'PQ': 1.0}, area_buckets=BUCKETS)])


def test_bad_input_names_the_dir_or_file(study, tmp_path):
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(ToolInputError, match='empty holds no'):
        CLI.main([str(empty), '--out', str(tmp_path / 'a.png')])
    with pytest.raises(ToolInputError, match='FULL'):
        CLI.main([str(study[0]), '--variants', 'FULL', 'CROP', '--out',
                  str(tmp_path / 'a.png')])
    bad = tmp_path / 'bad' / 'crop' / 'seed0'
    bad.mkdir(parents=True)
    (bad / 'metrics.json').write_text(json.dumps(dict(variant='CROP')))
    with pytest.raises(AblationError, match=r'seed0/metrics.json has no '
                       r'iters, metrics'):
        read_results_dir(str(tmp_path / 'bad'))
    assert not (tmp_path / 'a.png').exists()
