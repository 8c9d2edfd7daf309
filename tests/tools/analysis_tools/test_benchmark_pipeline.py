"""tools/analysis_tools/benchmark_pipeline.py: lean vs mmdet loading."""
import json

import pytest

from tests import load_tool


def test_benchmark_pipeline_runs_both_paths(tmp_path):
    bench = load_tool('analysis_tools', 'benchmark_pipeline')
    sample = bench.generate_sample(str(tmp_path), 0.03, 6)
    with open(sample) as f:
        info = json.load(f)
    assert len(info['instances']) >= 1
    assert info['height'] * info['width'] == pytest.approx(3e4, rel=0.02)
    lean = bench.run_path('lean', sample, 64, 1.0, 1, one_core=False)
    ref = bench.run_path('mmdet', sample, 64, 1.0, 1, one_core=False)
    for report in (lean, ref):
        assert report['peak_rss_mib'] > 0 and report['seconds'] > 0
        assert report['masks_in_crop'] <= report['instances']
