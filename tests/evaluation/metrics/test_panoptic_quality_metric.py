"""PanopticQualityMetric: online results, written predictions, mAP path."""
import json
import os.path as osp

import numpy as np
import pycocotools.mask as mask_utils
import pytest
import torch
from mmdet.registry import METRICS

import mmpanoptic_cabb.evaluation.metrics  # noqa: F401  (registry)
from mmpanoptic_cabb.evaluation.functional import (SUMMARY_KEYS,
                                                   evaluate_coco_panoptic,
                                                   masks_to_rles)

from ..panoptic_cases import CATEGORIES, make_case, write_case

try:
    from panopticapi.evaluation import pq_compute
except ImportError:  # optional reference
    pq_compute = None

NAMES = [c['name'] for c in CATEGORIES]
LABEL = {c['id']: k for k, c in enumerate(CATEGORIES)}
META = dict(
    classes=NAMES,
    thing_classes=[c['name'] for c in CATEGORIES if c['isthing']],
    stuff_classes=[c['name'] for c in CATEGORIES if not c['isthing']])
NUM_CLASSES = len(CATEGORIES)


def _as_mmdet_prediction(image):
    """Encode the predicted segments as mmdet's label + inst * 1000 map.

    Stuff segments of one class merge (mmdet keeps one per class), so the
    image's prediction is rewritten to the segmentation the map expresses.
    """
    pan = np.full(image['pred_ids'].shape, NUM_CLASSES, dtype=np.int64)
    instance = 0
    for seg in image['pred_segments']:
        label = LABEL[seg['category_id']]
        value = label
        if CATEGORIES[label]['isthing']:
            instance += 1
            value = label + 1000 * instance
        pan[image['pred_ids'] == seg['id']] = value
    values = [v for v in np.unique(pan) if v % 1000 != NUM_CLASSES]
    ids = np.zeros_like(pan)
    segments = []
    for k, value in enumerate(values):
        ids[pan == value] = k + 1
        segments.append(
            dict(id=k + 1, category_id=CATEGORIES[value % 1000]['id']))
    return pan, dict(image, pred_ids=ids, pred_segments=segments)


@pytest.fixture(scope='module')
def case(tmp_path_factory):
    images = make_case(5, num_images=4)
    encoded = [_as_mmdet_prediction(im) for im in images]
    images = [im for _, im in encoded]
    root = str(tmp_path_factory.mktemp('metric_case'))
    paths = write_case(root, images)
    return dict(images=images, pans=[p for p, _ in encoded], paths=paths,
                root=root)


def _samples(case, with_segments_info=False, instances=None):
    samples = []
    for k, (image, pan) in enumerate(zip(case['images'], case['pans'])):
        name = f'img_{k:03d}.png'
        sample = dict(
            img_id=k,
            img_path=osp.join('images', name.replace('.png', '.jpg')),
            ori_shape=pan.shape,
            pred_panoptic_seg=dict(sem_seg=torch.from_numpy(pan[None])))
        if with_segments_info:
            sample['seg_map_path'] = osp.join(case['paths']['gt_folder'],
                                              name)
            sample['segments_info'] = [
                dict(
                    id=s['id'],
                    category=LABEL[s['category_id']],
                    is_thing=bool(CATEGORIES[LABEL[s['category_id']]]
                                  ['isthing']) and not s['iscrowd'])
                for s in image['gt_segments']
            ]
        if instances is not None:
            sample['pred_instances'] = instances[k]
        samples.append(sample)
    return samples


def _metric_on_case_gt(case, **kwargs):
    """A ``PanopticQualityMetric`` reading the case's ground-truth files."""
    return METRICS.build(
        dict(
            type='PanopticQualityMetric',
            ann_file=case['paths']['gt_json'],
            seg_prefix=case['paths']['gt_folder'],
            **kwargs))


def _run(metric, samples, batch=3):
    metric.dataset_meta = META
    for start in range(0, len(samples), batch):
        metric.process({}, samples[start:start + batch])
    return metric.evaluate(len(samples))


def test_online_metric_equals_file_evaluation(case, tmp_path):
    paths = case['paths']
    prefix = str(tmp_path / 'results')
    metric = _metric_on_case_gt(case, outfile_prefix=prefix, classwise=True)
    online = _run(metric, _samples(case))
    files = evaluate_coco_panoptic(paths['gt_json'], paths['gt_folder'],
                                   paths['pred_json'], paths['pred_folder'])
    for key in SUMMARY_KEYS:
        assert online[f'panoptic/{key}'] == pytest.approx(files[key],
                                                          abs=1e-9)
    # classwise: every class's PQ, equal to the file evaluation's table
    for row in files['per_class']:
        value = online[f'panoptic/PQ_class_{row["name"]}']
        if row['PQ'] is None:
            assert np.isnan(value)
        else:
            assert value == pytest.approx(row['PQ'], abs=1e-9)
    # the written predictions evaluate to the same numbers
    written = evaluate_coco_panoptic(paths['gt_json'], paths['gt_folder'],
                                     f'{prefix}.panoptic.json',
                                     f'{prefix}.panoptic')
    for key in SUMMARY_KEYS:
        assert written[key] == pytest.approx(files[key], abs=1e-9)


@pytest.mark.skipif(pq_compute is None, reason='panopticapi not installed')
def test_written_predictions_pass_panopticapi(case, tmp_path):
    import contextlib
    import io
    paths = case['paths']
    prefix = str(tmp_path / 'sub')
    metric = _metric_on_case_gt(case, outfile_prefix=prefix)
    online = _run(metric, _samples(case))
    with contextlib.redirect_stdout(io.StringIO()):
        ref = pq_compute(paths['gt_json'], f'{prefix}.panoptic.json',
                         paths['gt_folder'], f'{prefix}.panoptic')
    assert online['panoptic/PQ'] == pytest.approx(100 * ref['All']['pq'],
                                                  abs=1e-9)


def test_segments_info_from_data_samples(case):
    from_json = _run(_metric_on_case_gt(case), _samples(case))
    from_samples = _run(
        METRICS.build(dict(type='PanopticQualityMetric')),
        _samples(case, with_segments_info=True))
    for key in SUMMARY_KEYS:
        assert from_samples[f'panoptic/{key}'] == pytest.approx(
            from_json[f'panoptic/{key}'], abs=1e-9)


def test_format_only_writes_submission(case, tmp_path):
    prefix = str(tmp_path / 'test')
    metric = METRICS.build(
        dict(
            type='PanopticQualityMetric',
            format_only=True,
            outfile_prefix=prefix))
    assert _run(metric, _samples(case)) == {}
    with open(f'{prefix}.panoptic.json') as f:
        sub = json.load(f)
    assert len(sub['annotations']) == len(case['images'])
    assert [c['name'] for c in sub['categories']] == NAMES
    assert osp.isfile(osp.join(f'{prefix}.panoptic', 'img_000.png'))


def _perfect_instances(case):
    instances = []
    for image in case['images']:
        bboxes, labels, masks = [], [], []
        thing_labels = [k for k, c in enumerate(CATEGORIES) if c['isthing']]
        for seg in image['gt_segments']:
            label = LABEL[seg['category_id']]
            if not CATEGORIES[label]['isthing'] or seg['iscrowd']:
                continue
            mask = image['gt_ids'] == seg['id']
            x, y, w, h = mask_utils.toBbox(
                mask_utils.encode(np.asfortranarray(mask.astype(np.uint8))))
            bboxes.append([x, y, x + w, y + h])
            labels.append(thing_labels.index(label))
            masks.append(mask)
        n = len(labels)
        h, w = image['gt_ids'].shape
        instances.append(
            dict(
                bboxes=torch.tensor(bboxes, dtype=torch.float32).reshape(
                    n, 4),
                scores=torch.linspace(0.9, 0.5, n),
                labels=torch.tensor(labels, dtype=torch.long),
                masks=torch.from_numpy(
                    np.array(masks, dtype=bool).reshape(n, h, w))))
    return instances


def _as_rles(instances):
    """The instances with ``masks`` as a list of COCO RLEs."""
    return [
        dict(inst, masks=masks_to_rles(inst['masks'].numpy()))
        for inst in instances
    ]


@pytest.mark.parametrize('rle', [False, True], ids=['stack', 'rle'])
def test_instance_map_equals_100_for_perfect_instances(case, rle):
    metric = _metric_on_case_gt(case, classwise=True)
    instances = _perfect_instances(case)
    if rle:  # as the segmentor's memory-bounded prediction gives them
        instances = _as_rles(instances)
    results = _run(metric, _samples(case, instances=instances))
    assert results['panoptic/bbox_mAP'] == pytest.approx(100.0)
    assert results['panoptic/segm_mAP'] == pytest.approx(100.0)
    buckets = [v for k, v in results.items() if '_mAP_p' in k]
    assert len(buckets) == 12
    assert all(np.isnan(v) or v == pytest.approx(100.0) for v in buckets)


def test_rle_masks_give_the_mask_map_of_stacks(case):
    # shifted masks: an mAP below 100, equal for both mask formats
    instances = _perfect_instances(case)
    for inst in instances:
        inst['masks'] = torch.roll(inst['masks'], shifts=(2, 3), dims=(1, 2))
    stack = _run(_metric_on_case_gt(case), _samples(case, instances=instances))
    rle = _run(_metric_on_case_gt(case),
               _samples(case, instances=_as_rles(instances)))
    assert stack['panoptic/segm_mAP'] < 100.0
    assert rle['panoptic/segm_mAP'] == stack['panoptic/segm_mAP']
