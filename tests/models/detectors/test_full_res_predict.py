"""Memory-bounded full-resolution prediction equals the full-size path.

Slim random-weight models with every detection kept (score thresholds 0),
generated images and the tiny synthetic val split: same panoptic ids, same
semantic argmax, same detections, masks as RLEs of the same masks, same
metrics.
"""
import copy
import math

import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

from mmdet.registry import DATASETS, METRICS, MODELS
from mmpanoptic_cabb.evaluation.functional import masks_to_rles
from mmpanoptic_cabb.models.detectors import SeamlessPanopticSegmentor
from mmpanoptic_cabb.models.seg_heads.full_res_ops import (
    resize_labels_nearest, upsampled_argmax, working_shape)
from .test_seamless_panoptic_segmentor import SLIM, _batch, _build
from ...tools.tiny_config import make_tiny_cfg

#: Keep every detection and paste every one: the heaviest fusion.
KEEP_ALL = {
    'test_cfg.rcnn.score_thr': 0.0,
    'test_cfg.panoptic.score_thr': 0.0,
    'test_cfg.panoptic.stuff_area_limit': 32,
}


@pytest.fixture(scope='module')
def model() -> SeamlessPanopticSegmentor:
    return _build(SLIM, **KEEP_ALL).eval()


def _predict(model, data, bounded: bool, rescale: bool = True, **options):
    head = model.panoptic_fusion_head
    saved = {k: getattr(head, k) for k in ('bounded_memory',
                                           'max_working_pixels',
                                           'instance_masks')}
    head.bounded_memory = bounded
    for key, value in options.items():
        setattr(head, key, value)
    try:
        with torch.no_grad():
            return model.predict(
                data['inputs'],
                copy.deepcopy(data['data_samples']),
                rescale=rescale)
    finally:
        for key, value in saved.items():
            setattr(head, key, value)


def _assert_same_predictions(full, bounded) -> None:
    assert torch.equal(full.pred_panoptic_seg.sem_seg,
                       bounded.pred_panoptic_seg.sem_seg)
    assert torch.equal(full.pred_sem_seg.sem_seg, bounded.pred_sem_seg.sem_seg)
    a, b = full.pred_instances, bounded.pred_instances
    for key in ('bboxes', 'labels', 'scores'):
        assert torch.equal(a[key], b[key]), key
    assert b.masks == masks_to_rles(a.masks.numpy())


# image shapes (padded to 32) and the original shapes they were resized from
SHAPES = [
    ([(96, 96), (88, 72)], [None, (176, 144)]),  # upsampled to ori
    ([(100, 140)], [(75, 105)]),  # downsampled to ori
    ([(64, 150)], [None]),  # no rescale needed
]


@pytest.mark.parametrize('shapes,ori_shapes', SHAPES)
@pytest.mark.parametrize('rescale', [True, False])
def test_bounded_prediction_equals_full_size_prediction(
        model, shapes, ori_shapes, rescale):
    data = _batch(model, shapes, 3, 4, training=False, ori_shapes=ori_shapes)
    full = _predict(model, data, bounded=False, rescale=rescale)
    bounded = _predict(model, data, bounded=True, rescale=rescale)
    for a, b in zip(full, bounded):
        assert len(a.pred_instances) > 10  # the fusion has work to do
        things = a.pred_panoptic_seg.sem_seg % 1000 < 3
        assert things.any() and not things.all()
        _assert_same_predictions(a, b)
    # the mask stack on request, the one of the full-size path
    stacks = _predict(model, data, bounded=True, rescale=rescale,
                      instance_masks='bitmap')
    for a, b in zip(full, stacks):
        assert torch.equal(a.pred_instances.masks, b.pred_instances.masks)


def test_working_resolution_cap(model):
    data = _batch(model, [(88, 72)], 3, 4, training=False,
                  ori_shapes=[(176, 144)])
    full = _predict(model, data, bounded=False)[0]
    # a cap at or above the output size changes nothing
    same = _predict(model, data, bounded=True,
                    max_working_pixels=176 * 144)[0]
    _assert_same_predictions(full, same)
    cap = 176 * 144 // 5
    capped = _predict(model, data, bounded=True, max_working_pixels=cap)[0]
    work = working_shape((176, 144), cap)
    assert work[0] * work[1] <= cap and work != (176, 144)
    pan = capped.pred_panoptic_seg.sem_seg
    assert pan.shape == (1, 176, 144) and pan.dtype == torch.int32
    # the semantic argmax at the working size, upsampled (nearest)
    with torch.no_grad():
        body, pyramid = model.extract_body_and_pyramid(data['inputs'])
        logits = model.semantic_head(body)['seg_preds'][0]
    meta = data['data_samples'][0].metainfo
    expected = resize_labels_nearest(
        upsampled_argmax(logits, meta['batch_input_shape'], (88, 72), work),
        (176, 144))
    assert torch.equal(capped.pred_sem_seg.sem_seg[0], expected)
    # the panoptic map is the working-size map upsampled: constant on the
    # blocks of output pixels that read one working pixel
    block = resize_labels_nearest(
        torch.arange(work[0] * work[1]).reshape(work), (176, 144))
    for key in torch.unique(block)[::7].tolist():
        assert len(torch.unique(pan[0][block == key])) == 1
    # detections and masks at the output size, as without the cap
    assert torch.equal(capped.pred_instances.bboxes,
                       full.pred_instances.bboxes)
    assert capped.pred_instances.masks == masks_to_rles(
        full.pred_instances.masks.numpy())


def test_bounded_prediction_rejects_soft_masks():
    model = _build(SLIM, **{'test_cfg.rcnn.mask_thr_binary': -1}).eval()
    data = _batch(model, [(64, 64)], 3, 4, training=False)
    with pytest.raises(ValueError, match='mask_thr_binary'):
        _predict(model, data, bounded=True)


def _metrics(model, dataset, metric_cfg, bounded: bool) -> dict:
    metric = METRICS.build(copy.deepcopy(metric_cfg))
    metric.dataset_meta = dataset.metainfo
    for index in range(len(dataset)):
        data = model.data_preprocessor(
            pseudo_collate([dataset[index]]), False)
        samples = _predict(model, data, bounded=bounded)
        metric.process({}, [s.to_dict() for s in samples])
    return metric.evaluate(len(dataset))


def test_same_metrics_on_the_synthetic_val_split(tiny_synthetic_root,
                                                 tmp_path):
    """PQ, mIoU and mAP of both paths on the tiny synthetic val split (the
    images are predicted at s0 = 128 and fused at their 256 x 512 size)."""
    init_default_scope('mmdet')
    cfg = make_tiny_cfg(tiny_synthetic_root, str(tmp_path), with_val=True)
    for key, value in KEEP_ALL.items():
        cfg.merge_from_dict({f'model.{key}': value})
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.eval()
    dataset = DATASETS.build(cfg.val_dataloader.dataset)
    full = _metrics(model, dataset, cfg.val_evaluator, bounded=False)
    bounded = _metrics(model, dataset, cfg.val_evaluator, bounded=True)
    assert set(full) == set(bounded) and any('PQ' in k for k in full)
    for key, value in full.items():
        assert bounded[key] == value or (math.isnan(value)
                                         and math.isnan(bounded[key])), key

