"""What CABB does in training and what box sizes a model predicts for
objects larger than the training crop (issue: does CABB help large objects,
and if not, why).

Two measurements, as pure functions over tensors / arrays plus the loops
that collect them from a model:

- :func:`truncated_positive_stats`: among the positives of one box-loss call
  (RPN anchors or RoIs), how many regress to a box with a truncated side,
  and how far the CABB solver moves their targets (the solved box's width /
  height over the cropped box's, along each truncated dimension);
- :func:`box_size_errors`: for each ground-truth box, the best-overlapping
  predicted box of its class and the log ratios of their widths and heights
  (negative: the prediction is too small, the bias crop training is expected
  to cause on large objects).
- :func:`collect_val_box_errors`: those errors for the large val objects,
  of the final predictions and of the RPN proposals the RoI head starts
  from.
"""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from torch import Tensor

from mmpanoptic_cabb.models.losses.cabb_solver import cabb_targets


def truncated_positive_stats(pred: Tensor,
                             target: Tensor,
                             weight: Optional[Tensor],
                             truncated: Tensor,
                             beta: float = 1.0,
                             means: Sequence[float] = (0., 0., 0., 0.),
                             stds: Sequence[float] = (1., 1., 1., 1.)) -> Dict:
    """Truncated positives of one CABB loss call and how far their targets
    move.

    Args:
        pred (Tensor): (N, 4) predicted normalised deltas.
        target (Tensor): (N, 4) normalised deltas of the cropped GT boxes.
        weight (Tensor, optional): (N, 4) or (N,) loss weights; rows with a
            positive weight are the positives (all rows when None).
        truncated (Tensor): (N, 4) bool flags (left, top, right, bottom).
        beta (float): SmoothL1 threshold of the loss.
        means (Sequence[float]): Box coder ``target_means``.
        stds (Sequence[float]): Box coder ``target_stds``.

    Returns:
        dict: ``positives``, ``truncated`` (positives with a truncated side),
        ``truncated_dims`` (truncated (row, dimension) pairs, x and y),
        ``moved_dims`` (of those, the ones whose solved size differs from
        the cropped box's) and ``size_ratios`` (list: solved size over
        cropped size of every truncated dimension, >= 1).
    """
    if weight is None:
        pos = torch.ones(len(target), dtype=torch.bool, device=target.device)
    else:
        pos = weight.reshape(len(target), -1).gt(0).any(1)
    flags = truncated.bool() & pos[:, None]
    solved = cabb_targets(pred.detach(), target.detach(), flags, beta, means,
                          stds)
    std = target.new_tensor(stds)
    mean = target.new_tensor(means)
    log_size = (target.detach() * std + mean)[:, 2:]
    log_solved = (solved * std + mean)[:, 2:]
    dims = torch.stack(
        (flags[:, 0] | flags[:, 2], flags[:, 1] | flags[:, 3]), 1)
    ratios = (log_solved - log_size)[dims].exp()
    return dict(
        positives=int(pos.sum()),
        truncated=int(flags.any(1).sum()),
        truncated_dims=int(dims.sum()),
        moved_dims=int((ratios != 1).sum()),
        size_ratios=ratios.double().cpu().tolist())


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) IoU of (x1, y1, x2, y2) boxes."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(2)
    area_a = (a[:, 2:] - a[:, :2]).prod(1)
    area_b = (b[:, 2:] - b[:, :2]).prod(1)
    return inter / np.maximum(area_a[:, None] + area_b[None] - inter, 1e-9)


def box_size_errors(gt_boxes: np.ndarray, gt_labels: np.ndarray,
                    pred_boxes: np.ndarray, pred_labels: np.ndarray) -> Dict:
    """Best same-class prediction of every GT box and its size error.

    Args:
        gt_boxes (np.ndarray): (G, 4) GT boxes (x1, y1, x2, y2).
        gt_labels (np.ndarray): (G,) GT labels.
        pred_boxes (np.ndarray): (P, 4) predicted boxes, same frame.
        pred_labels (np.ndarray): (P,) predicted labels.

    Returns:
        dict: per GT box (lists of length G) ``best_iou`` (0 without a
        prediction of its class), ``log_w_ratio`` and ``log_h_ratio``
        (log of predicted over GT width / height of that best prediction;
        NaN without one).
    """
    gt_boxes = np.asarray(gt_boxes, np.float64).reshape(-1, 4)
    pred_boxes = np.asarray(pred_boxes, np.float64).reshape(-1, 4)
    best = np.zeros(len(gt_boxes))
    log_w = np.full(len(gt_boxes), np.nan)
    log_h = np.full(len(gt_boxes), np.nan)
    if len(gt_boxes) and len(pred_boxes):
        iou = box_iou(gt_boxes, pred_boxes)
        iou[np.asarray(gt_labels)[:, None] !=
            np.asarray(pred_labels)[None]] = 0
        match = iou.argmax(1)
        best = iou[np.arange(len(gt_boxes)), match]
        has = best > 0
        gt_wh = gt_boxes[:, 2:] - gt_boxes[:, :2]
        pred_wh = pred_boxes[match, 2:] - pred_boxes[match, :2]
        ratio = np.log(np.maximum(pred_wh, 1e-6) / np.maximum(gt_wh, 1e-6))
        log_w[has], log_h[has] = ratio[has, 0], ratio[has, 1]
    return dict(
        best_iou=best.tolist(), log_w_ratio=log_w.tolist(),
        log_h_ratio=log_h.tolist())


def summarise(values: Sequence[float]) -> Dict[str, float]:
    """Count, mean and quantiles (10, 50, 90) of the finite values."""
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return dict(count=0)
    return dict(
        count=int(v.size),
        mean=float(v.mean()),
        p10=float(np.percentile(v, 10)),
        median=float(np.median(v)),
        p90=float(np.percentile(v, 90)))


def collect_training_stats(model, data_loader, num_batches: int) -> Dict:
    """Truncated positives and CABB target moves over training batches.

    The model computes its losses on ``num_batches`` batches of the train
    loader (no optimiser step). Every box loss that takes truncation flags
    (the crop-aware RPN and RoI heads with a ``CABBLoss``) is observed.

    Returns:
        dict: per head (``rpn``, ``roi``): summed counts of
        :func:`truncated_positive_stats` per batch and the summary of the
        size ratios.
    """
    heads = dict(rpn=model.rpn_head.loss_bbox,
                 roi=model.roi_head.bbox_head.loss_bbox)
    records: Dict[str, List[Dict]] = {name: [] for name in heads}

    def observer(name: str, loss):

        def hook(module, args, kwargs, output):
            truncated = kwargs.get('truncated')
            if truncated is None:
                return
            means, stds = loss.coder_stats
            records[name].append(
                truncated_positive_stats(args[0], args[1],
                                         kwargs.get('weight', args[2] if
                                                    len(args) > 2 else None),
                                         truncated, loss.beta, means, stds))

        return hook

    handles = [
        loss.register_forward_hook(observer(name, loss), with_kwargs=True)
        for name, loss in heads.items()
    ]
    model.train()
    try:
        for k, batch in enumerate(data_loader):
            if k >= num_batches:
                break
            with torch.no_grad():
                model(**model.data_preprocessor(batch, True), mode='loss')
    finally:
        for handle in handles:
            handle.remove()
    out = {}
    for name, recs in records.items():
        ratios = [r for rec in recs for r in rec['size_ratios']]
        out[name] = dict(
            calls=len(recs),
            **{key: sum(rec[key] for rec in recs)
               for key in ('positives', 'truncated', 'truncated_dims',
                           'moved_dims')},
            size_ratio=summarise(ratios))
    return out


def summarise_box_errors(best: Sequence[float], log_w: Sequence[float],
                         log_h: Sequence[float]) -> Dict:
    """Recall, IoU and size-error summaries of the best matches of a set of
    GT boxes (the lists of :func:`box_size_errors`, concatenated).

    Returns:
        dict: ``objects``, ``recall_iou50`` (share of best IoUs >= 0.5),
        summaries of ``best_iou``, ``log_w_ratio`` and ``log_h_ratio``, and
        ``too_small`` (share of the matched ones whose matched area is below
        the GT's); None for the shares without objects.
    """
    best_arr = np.asarray(best, np.float64)
    area = np.asarray(log_w, np.float64) + np.asarray(log_h, np.float64)
    matched = np.isfinite(area)
    return dict(
        objects=len(best_arr),
        recall_iou50=float((best_arr >= 0.5).mean()) if len(best_arr)
        else None,
        best_iou=summarise(best),
        log_w_ratio=summarise(log_w),
        log_h_ratio=summarise(log_h),
        too_small=float((area[matched] < 0).mean())
        if matched.any() else None)


def gt_proposals(boxes: np.ndarray, scale_factor: Sequence[float]):
    """Ground-truth boxes as the RoI head's proposals (``sample.proposals``).

    Args:
        boxes (np.ndarray): (N, 4) boxes in the original image frame.
        scale_factor (Sequence[float]): The test resize's ``(w, h)``
            factors.

    Returns:
        InstanceData: ``bboxes`` in the network's input frame, ``scores``
        1 and ``labels`` 0, as the RPN's test output has them.
    """
    from mmengine.structures import InstanceData
    scale = np.tile(np.asarray(scale_factor, np.float64), 2)
    bboxes = torch.as_tensor(np.asarray(boxes).reshape(-1, 4) * scale,
                             dtype=torch.float32)
    return InstanceData(bboxes=bboxes, scores=torch.ones(len(bboxes)),
                        labels=torch.zeros(len(bboxes), dtype=torch.long))


def collect_val_box_errors(model, dataset, num_images: int,
                           min_side: float,
                           proposals_from: str = 'rpn') -> Dict:
    """Box size errors of the predictions, and of the RPN proposals, for the
    val objects whose box side exceeds ``min_side`` pixels (original image
    frame).

    The proposals are those the RoI head receives (the RPN's test output,
    mapped back to the original frame through the image's scale factor),
    matched to each object regardless of class: whether an object is lost
    or comes out too small already in the RPN, or in the RoI head. With
    ``proposals_from='gt'`` the RoI head receives every ground-truth box of
    the image instead (:func:`gt_proposals`): what the RoI head makes of a
    proposal that is exactly right.

    Args:
        model: The segmentor (eval mode is set here).
        dataset: The val dataset (its test pipeline; GT read from its data
            infos' ``instances``).
        num_images (int): First N images.
        min_side (float): Objects with ``max(w, h) > min_side`` count.
        proposals_from (str): ``'rpn'`` (the model's own) or ``'gt'``.

    Returns:
        dict: :func:`summarise_box_errors` of the predictions (same class),
        ``min_side``, ``proposals_from``, and under ``proposals`` the same
        summary of the best proposal of each object.
    """
    from mmengine.dataset import pseudo_collate
    if proposals_from not in ('rpn', 'gt'):
        raise ValueError(f"proposals_from must be 'rpn' or 'gt', got "
                         f'{proposals_from!r}')
    model.eval()
    found = dict(pred=([], [], []), proposal=([], [], []))
    proposals: List = []
    rpn_predict = model.rpn_head.predict

    def capture(*args, **kwargs):
        results = rpn_predict(*args, **kwargs)
        proposals.extend(results)
        return results

    model.rpn_head.predict = capture
    try:
        for idx in range(min(num_images, len(dataset))):
            info = dataset.get_data_info(idx)
            gts = [inst for inst in info.get('instances', [])
                   if not inst.get('ignore_flag', 0)]
            boxes = np.array([g['bbox'] for g in gts],
                             np.float64).reshape(-1, 4)
            side = (boxes[:, 2:] - boxes[:, :2]).max(1) if len(boxes) else \
                np.zeros(0)
            keep = side > min_side
            if not keep.any():
                continue
            labels = np.array([g['bbox_label'] for g in gts])[keep]
            proposals.clear()
            data = dataset[idx]
            if proposals_from == 'gt':
                sample = data['data_samples']
                sample.proposals = gt_proposals(
                    boxes, sample.metainfo['scale_factor'])
                proposals.append(sample.proposals)
            with torch.no_grad():
                result = model.test_step(pseudo_collate([data]))[0]
            pred = result.pred_instances
            scale = np.asarray(result.metainfo['scale_factor'], np.float64)
            rpn_boxes = proposals[0].bboxes.cpu().numpy() / np.tile(scale, 2)
            agnostic = np.zeros(len(labels), np.int64)
            matches = dict(
                pred=box_size_errors(boxes[keep], labels,
                                     pred.bboxes.cpu().numpy(),
                                     pred.labels.cpu().numpy()),
                proposal=box_size_errors(
                    boxes[keep], agnostic, rpn_boxes,
                    np.zeros(len(rpn_boxes), np.int64)))
            for name, errors in matches.items():
                for store, key in zip(found[name], ('best_iou', 'log_w_ratio',
                                                    'log_h_ratio')):
                    store += errors[key]
    finally:
        del model.rpn_head.predict
    return dict(summarise_box_errors(*found['pred']), min_side=min_side,
                proposals_from=proposals_from,
                proposals=summarise_box_errors(*found['proposal']))
