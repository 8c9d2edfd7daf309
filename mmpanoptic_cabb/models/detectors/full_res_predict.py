"""Full-resolution prediction of the panoptic segmentor in bounded memory.

The steps of ``SeamlessPanopticSegmentor.predict`` (mmdet's RoI head and
the semantic head's ``predict``, then the fusion), rearranged so that no
array of size (classes, H, W) or (instances, H, W) is built at the output
size H x W:

1. the RoI head's boxes as mmdet predicts them and its mask probabilities
   at the mask head's resolution (28 x 28 per instance);
2. the semantic logits at the head's output stride (1/4 of the padded
   input), computed before the FPN when the head reads the body; each set
   of features is released as soon as no head needs it;
3. per image: the semantic argmax at the output size, a few classes at a
   time (:func:`.full_res_ops.upsampled_argmax`); the fusion with the
   instance masks pasted one at a time into their box region
   (:meth:`SeamlessFusionHead.fuse_regions`), whose pastes also give the
   COCO RLEs of ``pred_instances.masks``.

On CPU the maps equal those of the full-size path: the upsampled logit
values and the pasted masks (mmdet pastes one instance at a time on CPU,
``_do_paste_mask(skip_empty=True)``) are computed by the same kernels on
the same inputs. On GPU mmdet pastes masks by chunks over the whole image;
this path still pastes per instance. With ``max_working_pixels`` below the
output size the fusion works at a reduced resolution (see
:class:`SeamlessFusionHead`) and differs by that resampling.
"""
from typing import List, Tuple

from mmengine.structures import InstanceData, PixelData
from torch import Tensor

from mmdet.structures import SampleList
from mmdet.structures.bbox import bbox2roi
from ..seg_heads.full_res_ops import (PastedMasks, resize_labels_nearest,
                                      upsampled_argmax, working_shape)


def instance_mask_probabilities(
        roi_head, feats: Tuple[Tensor],
        results_list: List[InstanceData]) -> List[Tensor]:
    """Mask probabilities of the detections, at the mask head's size.

    As mmdet's ``FCNMaskHead._predict_by_feat_single`` before pasting: the
    sigmoid of the mask logits, the channel of each detection's class (or
    the only one when class agnostic).

    Args:
        roi_head: mmdet's ``StandardRoIHead`` with a mask head.
        feats (tuple[Tensor]): FPN levels.
        results_list (list[:obj:`InstanceData`]): Detections per image
            (``bboxes`` in the input frame, ``labels``).

    Returns:
        list[Tensor]: (N_i, 1, m, m) probabilities per image.
    """
    rois = bbox2roi([res.bboxes for res in results_list])
    if rois.shape[0] == 0:
        return [feats[0].new_zeros((0, 1, 1, 1)) for _ in results_list]
    mask_preds = roi_head._mask_forward(feats, rois)['mask_preds']
    probs = []
    for preds, res in zip(
            mask_preds.split([len(r) for r in results_list], 0), results_list):
        preds = preds.sigmoid()
        if not roi_head.mask_head.class_agnostic:
            preds = preds[range(len(preds)), res.labels][:, None]
        probs.append(preds)
    return probs


def predict_full_res(model,
                     batch_inputs: Tensor,
                     batch_data_samples: SampleList,
                     rescale: bool = True) -> SampleList:
    """``SeamlessPanopticSegmentor.predict`` in bounded memory.

    Args:
        model (SeamlessPanopticSegmentor): The segmentor.
        batch_inputs (Tensor): Images of shape (N, C, H, W).
        batch_data_samples (list[:obj:`DetDataSample`]): Samples with the
            image meta information.
        rescale (bool): Predict at ``ori_shape`` (True) or ``img_shape``.

    Returns:
        list[:obj:`DetDataSample`]: The samples with ``pred_panoptic_seg``,
        ``pred_instances`` (``masks`` as COCO RLEs, or the (N, H, W) bool
        stack with ``instance_masks='bitmap'``) and ``pred_sem_seg``.
    """
    roi_head, fusion = model.roi_head, model.panoptic_fusion_head
    threshold = roi_head.test_cfg.mask_thr_binary
    if threshold < 0:
        raise ValueError('bounded_memory prediction needs binary masks '
                         f'(mask_thr_binary >= 0), got {threshold}')
    batch_img_metas = [sample.metainfo for sample in batch_data_samples]
    # Each set of features lives only while a head reads it: a semantic
    # head on the body runs before the FPN exists, the body goes once the
    # FPN is built, the FPN once the RoI head is done.
    body_feats = model.backbone(batch_inputs)
    seg_logits = None
    if model.semantic_head_in == 'body':
        seg_logits = model.semantic_head(body_feats)['seg_preds']
    pyramid_feats = tuple(model.neck(body_feats))
    if seg_logits is None:
        seg_logits = model.semantic_head(pyramid_feats)['seg_preds']
    del body_feats
    if batch_data_samples[0].get('proposals', None) is None:
        rpn_results_list = model.rpn_head.predict(
            pyramid_feats, batch_data_samples, rescale=False)
    else:
        rpn_results_list = [sample.proposals for sample in batch_data_samples]
    results_list = roi_head.predict_bbox(
        pyramid_feats,
        batch_img_metas,
        rpn_results_list,
        rcnn_test_cfg=roi_head.test_cfg,
        rescale=False)
    probs_list = instance_mask_probabilities(roi_head, pyramid_feats,
                                             results_list)
    del pyramid_feats, rpn_results_list
    for index, (sample,
                meta) in enumerate(zip(batch_data_samples, batch_img_metas)):
        results = results_list[index]
        img_shape = tuple(meta['img_shape'][:2])
        out_shape = tuple(meta['ori_shape'][:2]) if rescale else img_shape
        if rescale:
            results.bboxes = results.bboxes / results.bboxes.new_tensor(
                meta['scale_factor']).repeat((1, 2))
        work_shape = working_shape(out_shape, fusion.max_working_pixels)
        sem_seg = upsampled_argmax(seg_logits[index],
                                   meta['batch_input_shape'], img_shape,
                                   work_shape, fusion.chunk_elements)
        exact = work_shape == out_shape
        boxes = results.bboxes
        if not exact:
            sx, sy = (work_shape[1] / out_shape[1],
                      work_shape[0] / out_shape[0])
            boxes = boxes * boxes.new_tensor([sx, sy, sx, sy])
        panoptic, rles = fusion.fuse_regions(
            PastedMasks(probs_list[index], boxes, work_shape, threshold),
            results.scores,
            results.labels,
            sem_seg,
            area_scale=(work_shape[0] * work_shape[1]) /
            (out_shape[0] * out_shape[1]),
            with_rles=exact and fusion.instance_masks == 'rle')
        if not exact:
            panoptic = PixelData(
                sem_seg=resize_labels_nearest(panoptic.sem_seg[0], out_shape)
                [None])
            sem_seg = resize_labels_nearest(sem_seg, out_shape)
        masks = PastedMasks(probs_list[index], results.bboxes, out_shape,
                            threshold)
        if fusion.instance_masks == 'bitmap':
            results.masks = masks.to_tensor()
        else:
            results.masks = rles if rles is not None else masks.to_rles()
        sample.pred_panoptic_seg = panoptic
        sample.pred_instances = results
        sample.pred_sem_seg = PixelData(sem_seg=sem_seg[None])
    return batch_data_samples
