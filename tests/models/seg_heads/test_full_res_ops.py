"""Full-resolution fusion in bounded memory: chunked argmax, masks pasted
one at a time, the working-resolution cap."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

from mmdet.models.roi_heads.mask_heads import FCNMaskHead
from mmpanoptic_cabb.evaluation.functional import masks_to_rles
from mmpanoptic_cabb.models.seg_heads import (SeamlessFusionHead,
                                              paste_instances)
from mmpanoptic_cabb.models.seg_heads.full_res_ops import (
    PastedMasks, channel_chunks, paste_instance_regions,
    resize_labels_nearest, upsampled_argmax, working_shape)

T, S = 3, 4


def _semantic_head_logits(logits, pad_shape, img_shape, out_shape):
    """What BaseAllClassSemanticHead.predict returns for one image."""
    full = F.interpolate(
        logits[None], size=pad_shape, mode='bilinear',
        align_corners=False)[0, :, :img_shape[0], :img_shape[1]]
    if tuple(out_shape) != tuple(img_shape):
        full = F.interpolate(
            full[None], size=out_shape, mode='bilinear',
            align_corners=False)[0]
    return full


@settings(max_examples=100, deadline=None)
@given(channels=st.integers(1, 70), per_channel=st.integers(1, 10**6),
       budget=st.integers(1, 10**7))
def test_channel_chunks_cover_all_channels_within_budget(
        channels, per_channel, budget):
    chunks = channel_chunks(channels, per_channel, budget)
    assert chunks[0][0] == 0 and chunks[-1][1] == channels
    assert all(a[1] == b[0] for a, b in zip(chunks, chunks[1:]))
    for start, stop in chunks:
        assert stop - start != 3
        assert stop - start == 1 or (stop - start) * per_channel <= budget


@pytest.mark.parametrize('classes', [7, 65])
@pytest.mark.parametrize('budget', [1, 3 * 10**5, 10**9])
def test_upsampled_argmax_equals_argmax_of_upsampled_logits(classes, budget):
    gen = torch.Generator().manual_seed(classes)
    for pad, img, out in [((96, 128), (90, 125), (90, 125)),
                          ((96, 128), (90, 125), (181, 249)),
                          ((64, 96), (64, 80), (47, 59))]:
        logits = torch.randn(classes, pad[0] // 4, pad[1] // 4, generator=gen)
        ref = _semantic_head_logits(logits, pad, img, out).argmax(0)
        labels = upsampled_argmax(logits, pad, img, out, max_elements=budget)
        assert labels.dtype == torch.long and labels.shape == out
        assert torch.equal(labels, ref)


def test_upsampled_argmax_breaks_ties_to_the_lowest_class():
    logits = torch.zeros(5, 8, 8)
    logits[3] = 1.0
    logits[1] = 1.0
    labels = upsampled_argmax(logits, (32, 32), (30, 31), (60, 62), 1)
    assert (labels == 1).all()


def _mask_head_outputs(num, out_shape, seed):
    gen = torch.Generator().manual_seed(seed)
    h, w = out_shape
    xy = torch.rand(num, 2, generator=gen) * torch.tensor([w, h]) - 5
    wh = torch.rand(num, 2, generator=gen) * torch.tensor([w, h]) * 0.6 + 1
    bboxes = torch.cat([xy, xy + wh], 1)
    # clipped to the image, as the RoI head's boxes
    bboxes[:, 0::2] = bboxes[:, 0::2].clamp(0, w)
    bboxes[:, 1::2] = bboxes[:, 1::2].clamp(0, h)
    preds = torch.randn(num, T, 28, 28, generator=gen) * 3
    labels = torch.randint(0, T, (num, ), generator=gen)
    scores = torch.rand(num, generator=gen)
    return bboxes, preds, labels, scores


@pytest.mark.parametrize('num', [1, 9])
def test_pasted_masks_equal_mmdet_mask_head_on_cpu(num):
    out_shape = (37, 53)
    bboxes, preds, labels, _ = _mask_head_outputs(num, out_shape, num)
    head = FCNMaskHead(num_convs=0, num_classes=T)
    ref = head._predict_by_feat_single(
        preds, bboxes.clone(), labels,
        dict(scale_factor=(1.0, 1.0), ori_shape=out_shape),
        ConfigDict(mask_thr_binary=0.5), rescale=True)
    probs = preds.sigmoid()[range(num), labels][:, None]
    masks = PastedMasks(probs, bboxes, out_shape, 0.5)
    assert torch.equal(masks.to_tensor(), ref)
    assert masks.to_rles() == masks_to_rles(ref.numpy())


@pytest.mark.parametrize('seed', range(4))
@pytest.mark.parametrize('score_thr,mask_overlap', [(0.0, 0.5), (0.4, 0.2),
                                                    (0.3, 1.0)])
def test_paste_instance_regions_equals_paste_instances(seed, score_thr,
                                                       mask_overlap):
    out_shape = (41, 47)
    bboxes, preds, labels, scores = _mask_head_outputs(12, out_shape, seed)
    scores[3] = scores[5]  # a tie: stable order
    probs = preds.sigmoid()[range(12), labels][:, None]
    masks = PastedMasks(probs, bboxes, out_shape, 0.5)
    stack = masks.to_tensor()
    ref_map, ref_kept = paste_instances(stack, scores, score_thr,
                                        mask_overlap)
    for with_rles in (False, True):
        id_map, kept, rles = paste_instance_regions(masks, scores, score_thr,
                                                    mask_overlap, with_rles)
        assert id_map.dtype == torch.int32
        assert torch.equal(id_map.long(), ref_map)
        assert torch.equal(kept, ref_kept)
        assert rles == (masks_to_rles(stack.numpy()) if with_rles else None)


def test_fuse_regions_equals_predict_on_full_size_inputs():
    out_shape = (40, 44)
    bboxes, preds, labels, scores = _mask_head_outputs(10, out_shape, 7)
    probs = preds.sigmoid()[range(10), labels][:, None]
    masks = PastedMasks(probs, bboxes, out_shape, 0.5)
    logits = torch.randn(T + S, *out_shape,
                         generator=torch.Generator().manual_seed(1))
    for thr, limit in ((0.0, 1), (0.5, 60), (0.2, 10**6)):
        head = SeamlessFusionHead(
            num_things_classes=T,
            num_stuff_classes=S,
            test_cfg=dict(score_thr=thr, stuff_area_limit=limit))
        ref = head.predict([
            InstanceData(
                masks=masks.to_tensor(),
                scores=scores,
                labels=labels,
                bboxes=bboxes)
        ], [logits])[0].sem_seg
        pan, rles = head.fuse_regions(masks, scores, labels,
                                      logits.argmax(0))
        assert rles is None and pan.sem_seg.dtype == torch.int32
        assert torch.equal(pan.sem_seg, ref)
        # a scaled stuff limit is the limit of the scaled area
        half, _ = head.fuse_regions(
            masks, scores, labels, logits.argmax(0), area_scale=0.5)
        head.stuff_area_limit = limit * 0.5
        assert torch.equal(
            half.sem_seg,
            head.fuse_regions(masks, scores, labels,
                              logits.argmax(0))[0].sem_seg)


def test_no_instances():
    masks = PastedMasks(torch.zeros(0, 1, 28, 28), torch.zeros(0, 4), (5, 6),
                        0.5)
    assert masks.to_tensor().shape == (0, 5, 6) and masks.to_rles() == []
    id_map, kept, rles = paste_instance_regions(masks, torch.zeros(0), 0.0,
                                                0.5, True)
    assert not id_map.any() and len(kept) == 0 and rles == []


def test_fusion_head_options_are_checked():
    head = SeamlessFusionHead(num_things_classes=T, num_stuff_classes=S)
    assert head.bounded_memory and head.max_working_pixels is None
    assert head.instance_masks == 'rle'
    with pytest.raises(ValueError):
        SeamlessFusionHead(test_cfg=dict(instance_masks='png'))
    with pytest.raises(ValueError):
        SeamlessFusionHead(test_cfg=dict(max_working_pixels=0))


@settings(max_examples=100, deadline=None)
@given(h=st.integers(1, 400), w=st.integers(1, 400),
       cap=st.one_of(st.none(), st.integers(1, 200000)))
def test_working_shape_keeps_aspect_within_the_cap(h, w, cap):
    wh, ww = working_shape((h, w), cap)
    if cap is None or h * w <= cap:
        assert (wh, ww) == (h, w)
        return
    assert wh * ww <= max(cap, 1) or min(wh, ww) == 1
    assert 1 <= wh <= h and 1 <= ww <= w
    assert abs(wh / h - ww / w) <= max(1 / h, 1 / w) + 1e-9


@settings(max_examples=100, deadline=None)
@given(h=st.integers(1, 30), w=st.integers(1, 30), oh=st.integers(1, 90),
       ow=st.integers(1, 90))
def test_resize_labels_nearest_equals_interpolate_nearest(h, w, oh, ow):
    labels = torch.from_numpy(
        np.random.default_rng(h * 100 + w).integers(0, 3000, (h, w)))
    ref = F.interpolate(  # float32 holds these labels exactly
        labels[None, None].float(), size=(oh, ow), mode='nearest')[0, 0]
    out = resize_labels_nearest(labels, (oh, ow))
    assert out.dtype == labels.dtype
    assert torch.equal(out, ref.long())
