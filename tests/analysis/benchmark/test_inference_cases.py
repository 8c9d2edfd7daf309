"""mmpanoptic_cabb.analysis.benchmark.inference_cases: old vs new predict
of tools/analysis_tools/benchmark_inference.py."""
import os.path as osp

from mmpanoptic_cabb.analysis.benchmark import inference_cases as bench


def test_benchmark_inference_cases_agree(tmp_path):
    image = bench.generate_image(str(tmp_path), 0.02, 8)
    assert osp.isfile(image)
    reports, outs = {}, {}
    for path in ('old', 'new'):
        outs[path] = str(tmp_path / f'{path}.npz')
        reports[path] = bench.run_case('slim', image, path, 64, 0.0,
                                       out=outs[path])
    for report in reports.values():
        assert report['seconds'] > 0 and report['peak_rss_mib'] > 0
        assert report['input_shape'] == [64, 85]  # shortest side s0
        assert report['output_shape'] == [123, 163]  # the original size
        assert report['detections'] > 0
    assert bench.compare(outs['old'], outs['new']) == dict(
        panoptic_diff_pixels=0, semantic_diff_pixels=0)
