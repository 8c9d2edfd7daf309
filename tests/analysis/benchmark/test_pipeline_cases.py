"""mmpanoptic_cabb.analysis.benchmark.pipeline_cases and .samples: the
training-pipeline cases of tools/analysis_tools/benchmark_pipeline.py."""
import json

import pytest

from mmpanoptic_cabb.analysis.benchmark.pipeline_cases import (
    run_config_pipeline, run_loader, run_path)
from mmpanoptic_cabb.analysis.benchmark.samples import (generate_dataset,
                                                        generate_sample,
                                                        label_ranges)
from tests import load_tool


def test_lean_and_mmdet_paths_run(tmp_path):
    sample = generate_sample(str(tmp_path), 0.03, 6)
    with open(sample) as f:
        info = json.load(f)
    assert len(info['instances']) >= 1
    assert info['height'] * info['width'] == pytest.approx(3e4, rel=0.02)
    lean = run_path('lean', sample, 64, 1.0, 1, one_core=False)
    ref = run_path('mmdet', sample, 64, 1.0, 1, one_core=False)
    for report in (lean, ref):
        assert report['peak_rss_mib'] > 0 and report['seconds'] > 0
        assert report['masks_in_crop'] <= report['instances']


@pytest.mark.parametrize('dataset,counts', [('mapillary_vistas', (37, 28)),
                                            ('idd', (9, 17)),
                                            ('cityscapes', (8, 11))])
def test_samples_take_each_dataset_labels(tmp_path, dataset, counts):
    things, stuff = label_ranges(dataset)
    assert (len(things), len(stuff)) == counts
    sample = generate_sample(
        str(tmp_path), 0.03, 6, dataset=dataset, aspect=2.0)
    with open(sample) as f:
        info = json.load(f)
    assert info['width'] == pytest.approx(2 * info['height'], abs=1)
    labels = {s['category']: s['is_thing'] for s in info['segments_info']}
    assert {k for k, t in labels.items() if not t} <= set(stuff)
    assert {k for k, t in labels.items() if t} <= set(things)


def test_paper_scale_cases_and_loader_run(tmp_path):
    """The paper-scale mode's cases on a tiny MVD-like sample, in process:
    the MVD CROP + ISUS pipeline with sigma forced (old and new path), the
    MVD CROP reference, and the config's train dataloader."""
    bench = load_tool('analysis_tools', 'benchmark_pipeline')
    sample = generate_sample(
        str(tmp_path), 0.03, 6, dataset='mapillary_vistas')
    with open(sample) as f:
        info = json.load(f)
    _, stuff = label_ranges('mapillary_vistas')
    assert {s['category'] for s in info['segments_info']
            if not s['is_thing']} >= set(stuff[:20])
    reports = {
        (sigma, lazy): run_config_pipeline(bench.MVD_ISUS_CONFIG, sample,
                                           sigma, lazy, 1, one_core=False)
        for sigma, lazy in ((0.25, False), (0.25, True), (4.0, True))
    }
    reports['crop'] = run_config_pipeline(bench.MVD_CROP_CONFIG, sample,
                                          None, True, 1, one_core=False)
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
    loader = run_loader(bench.MVD_ISUS_CONFIG, root, 2, 0, True)
    assert loader['batch_size'] == 4 and loader['samples'] == 8
    assert loader['samples_per_s'] > 0


@pytest.mark.parametrize('dataset', ['idd', 'cityscapes'])
def test_throughput_configs_load_their_dataset(tmp_path, dataset):
    """Each crop config of the throughput mode reads a dataset-shaped
    benchmark dataset with one in-process worker (its own batch size)."""
    bench = load_tool('analysis_tools', 'benchmark_pipeline')
    data = generate_dataset(
        str(tmp_path / dataset), dataset, 6, num_images=8, megapixels=0.05)
    assert data['size'][0] == pytest.approx(
        data['size'][1] * {'idd': 16 / 9, 'cityscapes': 2.0}[dataset], abs=1)
    for config in bench.THROUGHPUT_CONFIGS[dataset]:
        report = run_loader(config, data['root'], 1, 0, True)
        assert report['batch_size'] == 8 and report['samples'] == 8
        assert report['workers'] == 0
        assert report['cpu_seconds_per_sample'] > 0
