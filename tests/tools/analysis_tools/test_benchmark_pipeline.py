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


def test_paper_scale_cases_and_loader_run(tmp_path):
    """The paper-scale mode's cases on a tiny MVD-like sample, in process:
    the MVD CROP + ISUS pipeline with sigma forced (old and new path), the
    MVD CROP reference, and the config's train dataloader."""
    bench = load_tool('analysis_tools', 'benchmark_pipeline')
    sample = bench.generate_sample(
        str(tmp_path), 0.03, 6, mvd_labels=True)
    with open(sample) as f:
        info = json.load(f)
    things, stuff = bench.mvd_label_ranges()
    assert (len(things), len(stuff)) == (37, 28)
    assert {s['category'] for s in info['segments_info']
            if not s['is_thing']} >= set(stuff[:20])
    reports = {
        (sigma, lazy): bench.run_paper(bench.MVD_ISUS_CONFIG, sample, sigma,
                                       lazy, 1, one_core=False)
        for sigma, lazy in ((0.25, False), (0.25, True), (4.0, True))
    }
    reports['crop'] = bench.run_paper(bench.MVD_CROP_CONFIG, sample, None,
                                      True, 1, one_core=False)
    for report in reports.values():
        assert report['seconds'] > 0 and report['peak_rss_mib'] > 0
        assert 1 <= report['masks_in_crop'] <= report['instances']
    # s0 = 2400 times sigma: the window is 1024 x 1024 unless the image is
    # smaller; old and new paths give the same crop
    assert reports[4.0, True]['crop_shape'] == [1024, 1024]
    assert reports[0.25, False]['crop_shape'] == \
        reports[0.25, True]['crop_shape']
    assert reports[0.25, True]['masks_in_crop'] == \
        reports[0.25, False]['masks_in_crop']

    from mmpanoptic_cabb.data_preparation.synthetic.benchmark_sample import \
        write_benchmark_dataset
    from mmpanoptic_cabb.datasets.categories import (
        MAPILLARY_VISTAS_V12_CATEGORIES, coco_categories)
    root = str(tmp_path / 'mvd_like')
    write_benchmark_dataset(root, sample,
                            coco_categories(MAPILLARY_VISTAS_V12_CATEGORIES),
                            num_images=4)
    loader = bench.run_loader(bench.MVD_ISUS_CONFIG, root, 2, 0, True)
    assert loader['batch_size'] == 4 and loader['samples'] == 8
    assert loader['samples_per_s'] > 0
