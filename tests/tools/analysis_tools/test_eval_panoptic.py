"""tools/analysis_tools/eval_panoptic.py: output and bad-input errors."""
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

from mmpanoptic_cabb.evaluation.functional import (PanopticFormatError,
                                                   SUMMARY_KEYS)
from mmpanoptic_cabb.structures.panoptic_png import (read_panoptic_png,
                                                     write_panoptic_png)
from tests import REPO_ROOT, load_tool
from tests.evaluation.panoptic_cases import make_case, write_case

SCRIPT = osp.join(REPO_ROOT, 'tools', 'analysis_tools', 'eval_panoptic.py')
CLI = load_tool('analysis_tools', 'eval_panoptic')


@pytest.fixture
def case(tmp_path):
    return write_case(str(tmp_path), make_case(7, num_images=3))


def _argv(paths, *extra):
    return [
        '--gt-json', paths['gt_json'], '--gt-folder', paths['gt_folder'],
        '--pred-json', paths['pred_json'], '--pred-folder',
        paths['pred_folder'], *extra
    ]


def _edit_json(path, edit):
    with open(path) as f:
        data = json.load(f)
    edit(data)
    with open(path, 'w') as f:
        json.dump(data, f)


def test_cli_writes_all_keys(case, tmp_path, capsys):
    out = str(tmp_path / 'results.json')
    CLI.main(_argv(case, '--out', out, '--per-class', '--nproc', '2'))
    printed = capsys.readouterr().out
    assert 'PQ' in printed and 'mIoU' in printed
    with open(out) as f:
        results = json.load(f)
    for key in SUMMARY_KEYS + ('per_class', ):
        assert key in results
    assert len(results['per_class']) == 8
    assert 0 <= results['PQ'] <= 100


def _expect_error(case, image, segment_id=None, *extra):
    with pytest.raises(PanopticFormatError) as info:
        CLI.main(_argv(case, *extra))
    message = str(info.value)
    assert str(image) in message
    if segment_id is not None:
        assert str(segment_id) in message
        assert info.value.segment_id == segment_id
    return message


def test_missing_png(case):
    os.remove(osp.join(case['pred_folder'], 'img_001.png'))
    _expect_error(case, 'img_001.png')


def test_png_id_absent_from_json(case):
    path = osp.join(case['pred_folder'], 'img_002.png')
    ids = read_panoptic_png(path)
    ids[0, 0] = 4242
    write_panoptic_png(path, ids)
    message = _expect_error(case, 'img_002.png', 4242)
    assert 'not in the JSON' in message


def test_gt_png_id_absent_from_json(case):
    path = osp.join(case['gt_folder'], 'img_000.png')
    ids = read_panoptic_png(path)
    ids[-1, -1] = 31337
    write_panoptic_png(path, ids)
    _expect_error(case, 'img_000.png', 31337)
    CLI.main(_argv(case, '--lenient'))  # panopticapi's behaviour


def test_json_id_absent_from_png(case):

    def edit(data):
        data['annotations'][1]['segments_info'].append(
            dict(id=777, category_id=1))

    _edit_json(case['pred_json'], edit)
    message = _expect_error(case, 'img_001.png', 777)
    assert 'not in the PNG' in message


def test_unknown_category(case):
    seg_id = []

    def edit(data):
        seg = data['annotations'][0]['segments_info'][0]
        seg['category_id'] = 999
        seg_id.append(seg['id'])

    _edit_json(case['pred_json'], edit)
    message = _expect_error(case, 'img_000.png', seg_id[0])
    assert '999' in message


def test_duplicate_segment_id(case):
    seg_id = []

    def edit(data):
        segs = data['annotations'][2]['segments_info']
        segs.append(dict(segs[0]))
        seg_id.append(segs[0]['id'])

    _edit_json(case['pred_json'], edit)
    message = _expect_error(case, 'img_002.png', seg_id[0])
    assert 'duplicate' in message


def test_size_mismatch(case):
    path = osp.join(case['pred_folder'], 'img_001.png')
    write_panoptic_png(path, np.pad(read_panoptic_png(path),
                                    ((0, 2), (0, 0))))
    _expect_error(case, 'img_001.png')


def test_missing_prediction(case):
    _edit_json(case['pred_json'],
               lambda data: data['annotations'].pop(1))
    _expect_error(case, 'image_id=1')


def test_script_reports_error_and_exit_code(case):
    os.remove(osp.join(case['pred_folder'], 'img_000.png'))
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    proc = subprocess.run([sys.executable, SCRIPT, *_argv(case)],
                          capture_output=True,
                          text=True,
                          env=env)
    assert proc.returncode == 1
    assert 'error:' in proc.stderr and 'img_000.png' in proc.stderr
