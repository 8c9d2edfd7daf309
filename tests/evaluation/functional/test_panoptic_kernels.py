"""PQ/PQ†/PC/mIoU kernels against panopticapi and definition references."""
import contextlib
import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmpanoptic_cabb.evaluation.functional import (
    PanopticStats, compute_coco_panoptic_stats, evaluate_coco_panoptic,
    image_panoptic_stats, segment_confusion, summarize_panoptic_stats)
from mmpanoptic_cabb.structures.panoptic_png import MAX_PANOPTIC_ID

from ..panoptic_cases import CATEGORIES, make_case, write_case
from ..references import (reference_miou, reference_parsing_covering,
                          reference_pq_dagger, reference_pq_per_class)

try:
    from panopticapi.evaluation import pq_compute
except ImportError:  # optional reference
    pq_compute = None

SEEDS = list(range(12))
IS_THING = np.array([bool(c['isthing']) for c in CATEGORIES])
CAT_TO_LABEL = {c['id']: k for k, c in enumerate(CATEGORIES)}


@pytest.fixture(scope='module')
def cases(tmp_path_factory):
    """Random multi-image cases written to disk, with their images."""
    out = []
    for seed in SEEDS:
        images = make_case(seed, num_images=5)
        root = str(tmp_path_factory.mktemp(f'case{seed}'))
        out.append((images, write_case(root, images)))
    return out


def _evaluate(paths, **kwargs):
    return evaluate_coco_panoptic(paths['gt_json'], paths['gt_folder'],
                                  paths['pred_json'], paths['pred_folder'],
                                  **kwargs)


def test_cases_cover_the_edge_cases(cases):
    """The generated cases exercise crowd, void, tiny and absent classes."""
    seen = dict(crowd=0, gt_void=0, pred_void=0, tiny=0)
    for images, _ in cases:
        for image in images:
            seen['crowd'] += sum(s['iscrowd'] for s in image['gt_segments'])
            seen['gt_void'] += int((image['gt_ids'] == 0).any())
            seen['pred_void'] += int((image['pred_ids'] == 0).any())
            seen['tiny'] += sum(
                int((image['gt_ids'] == s['id']).sum() <= 4)
                for s in image['gt_segments'])
    assert all(v > 0 for v in seen.values()), seen
    used = {s['category_id'] for images, _ in cases for im in images
            for s in im['gt_segments'] + im['pred_segments']}
    assert 17 not in used and 41 not in used  # absent classes


@pytest.mark.skipif(pq_compute is None, reason='panopticapi not installed')
def test_pq_matches_panopticapi(cases):
    for _, paths in cases:
        ours = _evaluate(paths)
        with contextlib.redirect_stdout(io.StringIO()):
            ref = pq_compute(paths['gt_json'], paths['pred_json'],
                             paths['gt_folder'], paths['pred_folder'])
        for group, suffix in (('All', ''), ('Things', '_th'),
                              ('Stuff', '_st')):
            for key in ('pq', 'sq', 'rq'):
                assert ours[key.upper() + suffix] == pytest.approx(
                    100 * ref[group][key], abs=1e-9)
            assert ours['n' + suffix] == ref[group]['n']
        for label, cat in enumerate(CATEGORIES):
            row, ref_row = ours['per_class'][label], ref['per_class'][
                cat['id']]
            if row['PQ'] is not None:
                assert row['PQ'] == pytest.approx(100 * ref_row['pq'],
                                                  abs=1e-9)


def test_pq_stats_match_definition(cases):
    ignored_predictions = 0
    for images, paths in cases:
        stats, _ = compute_coco_panoptic_stats(
            paths['gt_json'], paths['gt_folder'], paths['pred_json'],
            paths['pred_folder'])
        iou_sum, tp, fp, fn = reference_pq_per_class(images, CATEGORIES)
        np.testing.assert_array_equal(stats.pq_tp, tp)
        np.testing.assert_array_equal(stats.pq_fp, fp)
        np.testing.assert_array_equal(stats.pq_fn, fn)
        np.testing.assert_allclose(stats.pq_iou, iou_sum, rtol=0, atol=1e-12)
        num_pred = sum(len(im['pred_segments']) for im in images)
        ignored_predictions += num_pred - tp.sum() - fp.sum()
    # some unmatched predictions lie mostly on void or crowd (not FP)
    assert ignored_predictions > 0


def test_pq_dagger_pc_miou_match_definitions(cases):
    for images, paths in cases:
        ours = _evaluate(paths)
        dagger, dagger_per_class = reference_pq_dagger(images, CATEGORIES)
        pc, pc_th, pc_st, pc_per_class = reference_parsing_covering(
            images, CATEGORIES)
        miou, iou_per_class = reference_miou(images, CATEGORIES)
        assert ours['PQ_dagger'] == pytest.approx(dagger, abs=1e-9)
        assert ours['PC'] == pytest.approx(pc, abs=1e-9)
        assert ours['PC_th'] == pytest.approx(pc_th, abs=1e-9)
        assert ours['PC_st'] == pytest.approx(pc_st, abs=1e-9)
        assert ours['mIoU'] == pytest.approx(miou, abs=1e-9)
        for row, d, p, i in zip(ours['per_class'], dagger_per_class,
                                pc_per_class, iou_per_class):
            for value, ref in ((row['PQ_dagger'], d), (row['PC'], p),
                               (row['IoU'], i)):
                if ref is None:
                    assert value is None
                else:
                    assert value == pytest.approx(100 * ref, abs=1e-9)


def test_pc_without_normalisation(cases):
    images, paths = cases[0]
    ours = _evaluate(paths, pc_normalize=False)
    pc, _, _, _ = reference_parsing_covering(images, CATEGORIES,
                                             normalize=False)
    assert ours['PC'] == pytest.approx(pc, abs=1e-9)


def test_stats_add_up_across_processes_and_images(cases):
    images, paths = cases[1]
    single = _evaluate(paths)
    for other in (_evaluate(paths, nproc=2),
                  _evaluate(paths, decode_threads=2)):
        for key in ('PQ', 'SQ', 'RQ', 'PQ_dagger', 'PC', 'mIoU'):
            assert other[key] == pytest.approx(single[key], abs=1e-9)
    per_image = [_image_stats(im) for im in images]
    summed = summarize_panoptic_stats(
        PanopticStats.sum(per_image, len(CATEGORIES)), IS_THING,
        [c['name'] for c in CATEGORIES])
    for key in ('PQ', 'PQ_dagger', 'PC', 'mIoU'):
        assert summed[key] == pytest.approx(single[key], abs=1e-9)


def _image_stats(image, gt_ids=None, pred_ids=None):
    gt_map = image['gt_ids'] if gt_ids is None else gt_ids
    pred_map = image['pred_ids'] if pred_ids is None else pred_ids
    gt_segs, pred_segs = image['gt_segments'], image['pred_segments']
    confusion, unknown_gt, unknown_pred = segment_confusion(
        gt_map, pred_map, [s['id'] for s in gt_segs],
        [s['id'] for s in pred_segs])
    assert unknown_gt.size == 0 and unknown_pred.size == 0
    return image_panoptic_stats(
        confusion, [CAT_TO_LABEL[s['category_id']] for s in gt_segs],
        [bool(s['iscrowd']) for s in gt_segs],
        [CAT_TO_LABEL[s['category_id']] for s in pred_segs], IS_THING,
        num_pixels=gt_map.size)


def _summary(images):
    stats = PanopticStats.sum([_image_stats(im) for im in images],
                              len(CATEGORIES))
    return summarize_panoptic_stats(stats, IS_THING)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6))
def test_ground_truth_against_itself_scores_100(seed):
    images = make_case(seed, num_images=2, h=16, w=20)
    for image in images:
        image['pred_ids'] = image['gt_ids'].copy()
        image['pred_segments'] = [
            dict(id=s['id'], category_id=s['category_id'])
            for s in image['gt_segments']
        ]
    summary = _summary(images)
    has_regular = any(not s['iscrowd'] for im in images
                      for s in im['gt_segments'])
    if has_regular:
        for key in ('PQ', 'SQ', 'RQ', 'PQ_dagger', 'PC', 'mIoU'):
            assert summary[key] == pytest.approx(100.0)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), relabel_seed=st.integers(0, 10**6))
def test_invariant_to_segment_id_relabelling(seed, relabel_seed):
    images = make_case(seed, num_images=2, h=16, w=20)
    rng = np.random.default_rng(relabel_seed)
    relabelled = []
    for image in images:
        new = dict(image)
        for side in ('gt', 'pred'):
            segs = image[f'{side}_segments']
            fresh = 1 + rng.choice(MAX_PANOPTIC_ID, len(segs), replace=False)
            lut = {s['id']: int(f) for s, f in zip(segs, fresh)}
            ids = image[f'{side}_ids']
            new_ids = np.zeros_like(ids)
            for old, f in lut.items():
                new_ids[ids == old] = f
            new[f'{side}_ids'] = new_ids
            new[f'{side}_segments'] = [
                dict(s, id=lut[s['id']]) for s in segs
            ]
        relabelled.append(new)
    before, after = _summary(images), _summary(relabelled)
    for key in ('PQ', 'SQ', 'RQ', 'PQ_dagger', 'PC', 'mIoU'):
        assert after[key] == pytest.approx(before[key], abs=1e-12)


def test_empty_prediction_and_empty_groups():
    image = make_case(3, num_images=1)[0]
    image['pred_ids'] = np.zeros_like(image['gt_ids'])
    image['pred_segments'] = []
    summary = _summary([image])
    assert summary['PQ'] == 0.0 and summary['PC'] == 0.0
    assert summary['mIoU'] == 0.0
    empty = summarize_panoptic_stats(
        PanopticStats.zeros(len(CATEGORIES)), IS_THING)
    assert empty['PQ'] == 0.0 and empty['n'] == 0
