"""RLE encoding of panoptic segments and COCO AP with percentile buckets."""
import math

import numpy as np
import pycocotools.mask as mask_utils
import pytest

from mmpanoptic_cabb.evaluation.functional import (evaluate_instances,
                                                   masks_to_rles,
                                                   percentile_buckets,
                                                   segments_to_rles)

from ..panoptic_cases import CATEGORIES, make_case

THINGS = [c for c in CATEGORIES if c['isthing']]


@pytest.mark.parametrize('seed', range(5))
def test_segment_rles_equal_pycocotools_encoding(seed):
    rng = np.random.default_rng(seed)
    h, w = rng.integers(1, 40, 2)
    id_map = rng.integers(0, 6, (h, w)) * 11
    id_map[: h // 2] = 22  # long runs across columns
    ids = [0, 11, 22, 33, 44, 55, 999]  # 999 absent
    ours = segments_to_rles(id_map, ids)
    ref = masks_to_rles(np.stack([id_map == i for i in ids]))
    for a, b, seg_id in zip(ours, ref, ids):
        assert a['counts'] == b['counts']
        np.testing.assert_array_equal(mask_utils.decode(a), id_map == seg_id)


def _gt_and_perfect_predictions(images):
    gt_images, pred_images = [], []
    for k, image in enumerate(images):
        things = [
            s for s in image['gt_segments']
            if s['category_id'] in {c['id']
                                    for c in THINGS}
        ]
        rles = segments_to_rles(image['gt_ids'], [s['id'] for s in things])
        gt, pred = [], []
        for seg, rle in zip(things, rles):
            box = mask_utils.toBbox(rle).tolist()
            area = float(mask_utils.area(rle))
            gt.append(
                dict(
                    category_id=seg['category_id'],
                    segmentation=rle,
                    bbox=box,
                    area=area,
                    iscrowd=seg['iscrowd']))
            if not seg['iscrowd']:
                pred.append(
                    dict(
                        category_id=seg['category_id'],
                        segmentation=rle,
                        bbox=box,
                        score=0.5 + 0.01 * len(pred)))
        h, w = image['gt_ids'].shape
        gt_images.append(dict(image_id=k, height=h, width=w, instances=gt))
        pred_images.append(dict(image_id=k, instances=pred))
    return gt_images, pred_images


def test_perfect_instances_give_ap_100():
    images = make_case(11, num_images=6, h=40, w=48)
    gt_images, pred_images = _gt_and_perfect_predictions(images)
    results = evaluate_instances(
        gt_images, pred_images, THINGS, classwise=True)
    for iou_type in ('bbox', 'segm'):
        assert results[f'{iou_type}_mAP'] == pytest.approx(100.0)
        assert results[f'{iou_type}_mAP_50'] == pytest.approx(100.0)
        buckets = [
            v for k, v in results.items()
            if k.startswith(f'{iou_type}_mAP_p')
        ]
        assert len(buckets) == 6
        assert any(not math.isnan(v) for v in buckets)
        assert all(math.isnan(v) or v == pytest.approx(100.0)
                   for v in buckets)
        per_class = results[f'{iou_type}_per_class']
        assert set(per_class) == {c['name'] for c in THINGS}


def test_missing_instances_lower_ap():
    images = make_case(11, num_images=6, h=40, w=48)
    gt_images, pred_images = _gt_and_perfect_predictions(images)
    for image in pred_images:
        image['instances'] = image['instances'][1:]
    results = evaluate_instances(gt_images, pred_images, THINGS)
    assert results['segm_mAP'] < 100.0


def test_bucket_recall_tells_missed_from_outranked():
    images = make_case(11, num_images=6, h=40, w=48)
    gt_images, pred_images = _gt_and_perfect_predictions(images)
    labels = [c['id'] for c in THINGS]
    # outranked: every object also gets a top-scored copy of the wrong class
    for image in pred_images:
        image['instances'] = image['instances'] + [
            dict(inst, category_id=labels[(labels.index(inst['category_id'])
                                           + 1) % len(labels)], score=0.99)
            for inst in image['instances']]
    results = evaluate_instances(gt_images, pred_images, THINGS)
    for iou_type in ('bbox', 'segm'):
        aps = [v for k, v in results.items()
               if k.startswith(f'{iou_type}_mAP_p') and not math.isnan(v)]
        ars = [v for k, v in results.items()
               if k.startswith(f'{iou_type}_mAR_p') and not math.isnan(v)]
        assert len(ars) == len(aps) > 0
        assert all(v == pytest.approx(100.0) for v in ars)
        assert min(aps) < 99.0
    # missed: the best-scored object of each image is dropped
    gt_images, pred_images = _gt_and_perfect_predictions(images)
    for image in pred_images:
        image['instances'] = sorted(image['instances'],
                                    key=lambda i: i['score'])[:-1]
    results = evaluate_instances(gt_images, pred_images, THINGS)
    for iou_type in ('bbox', 'segm'):
        ars = {k: v for k, v in results.items()
               if k.startswith(f'{iou_type}_mAR_p') and not math.isnan(v)}
        assert min(ars.values()) < 100.0
        for key, ar in ars.items():
            assert 0.0 <= ar <= 100.0
            # perfect boxes: AP is 100 exactly where nothing was missed
            ap = results[key.replace('_mAR_', '_mAP_')]
            assert (ar == pytest.approx(100.0)) == (ap == pytest.approx(100.0))


def test_no_detections():
    images = make_case(11, num_images=2, h=40, w=48)
    gt_images, pred_images = _gt_and_perfect_predictions(images)
    for image in pred_images:
        image['instances'] = []
    results = evaluate_instances(gt_images, pred_images, THINGS)
    assert results['bbox_mAP'] == 0.0 and results['segm_mAP'] == 0.0


def test_percentile_buckets_partition_the_areas():
    areas = np.arange(1, 1001, dtype=float)
    ranges, labels = percentile_buckets(areas)
    assert labels == [
        'p0-25', 'p25-50', 'p50-75', 'p75-95', 'p95-99', 'p99-100'
    ]
    counts = [
        int(np.sum((areas >= lo) & (areas <= hi))) for lo, hi in ranges
    ]
    assert sum(counts) == areas.size  # every area in exactly one bucket
    assert counts[-1] == 10


@pytest.mark.parametrize('seed', range(4))
def test_mask_rles_equal_pycocotools_encoding(seed):
    rng = np.random.default_rng(seed)
    for trial in range(40):
        h, w = rng.integers(1, 25, 2)
        masks = rng.random((3, h, w)) < rng.random()
        if trial % 5 == 0:
            masks[0] = False  # empty mask
        if trial % 7 == 0:
            masks[1, :, :2] = True  # runs joined across columns
        for mask, rle in zip(masks, masks_to_rles(masks)):
            ref = mask_utils.encode(
                np.asfortranarray(mask[:, :, None].astype(np.uint8)))[0]
            assert rle['counts'] == ref['counts']


@pytest.mark.parametrize('max_dets', [1, 100, 256])
def test_headline_map_is_taken_at_max_dets(max_dets):
    # pycocotools' summary reads its headline AP at maxDets=100 only; with
    # max_dets=256 (the paper configs) it would report 0. Ours equals
    # pycocotools' own AP at maxDets=100 whenever an image holds fewer
    # detections than any of these limits matter (here: few per image),
    # and is consistent with the AP_50 / AP_75 entries.
    images = make_case(11, num_images=6, h=40, w=48)
    gt_images, pred_images = _gt_and_perfect_predictions(images)
    for image in pred_images:
        image['instances'] = image['instances'][1:]
    reference = evaluate_instances(gt_images, pred_images, THINGS)
    results = evaluate_instances(gt_images, pred_images, THINGS,
                                 max_dets=max_dets)
    for iou_type in ('bbox', 'segm'):
        assert 0 < results[f'{iou_type}_mAP'] <= results[f'{iou_type}_mAP_50']
        if max_dets >= max(len(i['instances']) for i in pred_images):
            assert results[f'{iou_type}_mAP'] == pytest.approx(
                reference[f'{iou_type}_mAP'])
