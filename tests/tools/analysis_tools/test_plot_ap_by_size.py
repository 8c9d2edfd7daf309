"""tools/analysis_tools/plot_ap_by_size.py: Fig. 5 and per-class PQ PNGs."""
import json

import cv2
import pytest

from mmpanoptic_cabb.utils.errors import ToolInputError
from tests import load_tool

CLI = load_tool('analysis_tools', 'plot_ap_by_size')
BUCKETS = ('p0-25', 'p25-50', 'p50-75', 'p75-95', 'p95-99', 'p99-100')


def _mmengine_json(path, shift):
    data = {'panoptic/PQ': 40.0 + shift, 'panoptic/PQ_class_car': 30 + shift,
            'panoptic/PQ_class_road': 80.0, 'panoptic/PQ_class_sign': None}
    for k, b in enumerate(BUCKETS):
        data[f'panoptic/bbox_mAP_{b}'] = 10.0 * k + shift
        data[f'panoptic/segm_mAP_{b}'] = 9.0 * k + shift
    data['time'] = 1.0
    path.write_text(json.dumps(data))
    return str(path)


def _ablation_record(path):
    metrics = {'PQ': 50.0, 'bbox_mAP_p0-25': 5.0, 'segm_mAP_p0-25': 4.0,
               'bbox_mAP_p25-50': None}
    path.write_text(json.dumps(dict(
        variant='CROP', seed=0, metrics=metrics,
        area_buckets={'p0-25': [1, 400], 'p25-50': [400, 1500]})))
    return str(path)


def test_plots_several_result_files(tmp_path):
    a = _mmengine_json(tmp_path / 'a.json', 0)
    b = _mmengine_json(tmp_path / 'b.json', 5)
    c = _ablation_record(tmp_path / 'metrics.json')
    out = str(tmp_path / 'fig.png')
    written = CLI.main([a, b, c, '--out', out])
    assert written == [out, str(tmp_path / 'fig_pq_per_class.png')]
    for path in written:
        image = cv2.imread(path)
        assert image is not None and image.shape[0] > 100


def test_load_result_reads_every_layout(tmp_path):
    a = CLI.load_result(_mmengine_json(tmp_path / 'a.json', 0))
    assert a['metrics']['bbox_mAP_p99-100'] == 50.0
    assert a['per_class'] == {'car': 30, 'road': 80.0}
    c = CLI.load_result(_ablation_record(tmp_path / 'm.json'))
    assert c['label'] == 'CROP seed 0' and c['area_buckets']['p0-25'] == [
        1, 400]
    from mmpanoptic_cabb.analysis.plots import bucket_values
    assert bucket_values(c['metrics']) == {'bbox': {'p0-25': (5.0, 0.0)},
                                           'segm': {'p0-25': (4.0, 0.0)}}
    ev = tmp_path / 'eval.json'
    ev.write_text(json.dumps(dict(PQ=1.0, per_class=[
        dict(name='car', isthing=True, PQ=12.5),
        dict(name='sky', isthing=False, PQ=None)])))
    e = CLI.load_result(str(ev))
    assert e['per_class'] == {'car': 12.5} and e['things'] == ['car']


def test_bad_result_files_are_named(tmp_path):
    with pytest.raises(ToolInputError, match='missing.json'):
        CLI.main([str(tmp_path / 'missing.json'), '--out',
                  str(tmp_path / 'x.png')])
    bad = tmp_path / 'bad.json'
    bad.write_text('{not json')
    with pytest.raises(ToolInputError, match='bad.json'):
        CLI.load_result(str(bad))
    empty = tmp_path / 'empty.json'
    empty.write_text('{"foo": 1}')
    with pytest.raises(ToolInputError, match='empty.json'):
        CLI.load_result(str(empty))
