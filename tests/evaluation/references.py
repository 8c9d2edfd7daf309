"""Slow, obvious reference implementations written from the definitions.

One boolean mask per segment and plain loops; only for tiny test images.
Each function takes the images of :func:`panoptic_cases.make_case` (ids maps
and ``segments_info`` with COCO category ids) and the categories list.
"""
import numpy as np


def _labels(categories):
    cat_to_label = {c['id']: k for k, c in enumerate(categories)}
    is_thing = [bool(c['isthing']) for c in categories]
    return cat_to_label, is_thing


def reference_pq_per_class(images, categories):
    """Per-class (iou_sum, tp, fp, fn) following the panopticapi protocol."""
    cat_to_label, _ = _labels(categories)
    num = len(categories)
    iou_sum, tp, fp, fn = (np.zeros(num), np.zeros(num, int),
                           np.zeros(num, int), np.zeros(num, int))
    for image in images:
        gt_ids, pred_ids = image['gt_ids'], image['pred_ids']
        void = gt_ids == 0
        matched_gt, matched_pred = set(), set()
        for g in image['gt_segments']:
            if g['iscrowd']:
                continue
            gmask = gt_ids == g['id']
            for p in image['pred_segments']:
                if p['category_id'] != g['category_id']:
                    continue
                pmask = pred_ids == p['id']
                inter = np.sum(gmask & pmask)
                union = np.sum(gmask | pmask) - np.sum(pmask & void)
                if inter and inter / union > 0.5:
                    label = cat_to_label[g['category_id']]
                    tp[label] += 1
                    iou_sum[label] += inter / union
                    matched_gt.add(g['id'])
                    matched_pred.add(p['id'])
        crowd_of = {}
        for g in image['gt_segments']:
            if g['iscrowd']:
                crowd_of[g['category_id']] = gt_ids == g['id']
            elif g['id'] not in matched_gt:
                fn[cat_to_label[g['category_id']]] += 1
        for p in image['pred_segments']:
            if p['id'] in matched_pred:
                continue
            pmask = pred_ids == p['id']
            ignored = np.sum(pmask & void)
            if p['category_id'] in crowd_of:
                ignored += np.sum(pmask & crowd_of[p['category_id']])
            if ignored / pmask.sum() <= 0.5:
                fp[cat_to_label[p['category_id']]] += 1
    return iou_sum, tp, fp, fn


def reference_pq_dagger(images, categories):
    """PQ† (percent) and its per-class values (None where not averaged)."""
    cat_to_label, is_thing = _labels(categories)
    iou_sum, tp, fp, fn = reference_pq_per_class(images, categories)
    stuff_iou = np.zeros(len(categories))
    stuff_count = np.zeros(len(categories), int)
    for image in images:
        gt_ids, pred_ids = image['gt_ids'], image['pred_ids']
        void = gt_ids == 0
        for g in image['gt_segments']:
            label = cat_to_label[g['category_id']]
            gmask = gt_ids == g['id']
            if is_thing[label] or g['iscrowd'] or not gmask.any():
                continue
            stuff_count[label] += 1
            for p in image['pred_segments']:
                if p['category_id'] != g['category_id']:
                    continue
                pmask = pred_ids == p['id']
                inter = np.sum(gmask & pmask)
                if inter > 0:
                    union = np.sum(gmask | pmask) - np.sum(pmask & void)
                    stuff_iou[label] += inter / union
    per_class = []
    for label in range(len(categories)):
        if is_thing[label]:
            den = tp[label] + 0.5 * fp[label] + 0.5 * fn[label]
            per_class.append(iou_sum[label] / den if den else None)
        else:
            per_class.append(stuff_iou[label] / stuff_count[label]
                             if stuff_count[label] else None)
    valid = [v for v in per_class if v is not None]
    return 100 * float(np.mean(valid)), per_class


def reference_parsing_covering(images, categories, normalize=True):
    """PC, PC_th, PC_st (percent) after DeeperLab, and per-class values."""
    cat_to_label, is_thing = _labels(categories)
    weighted = np.zeros(len(categories))
    area = np.zeros(len(categories))
    for image in images:
        gt_ids, pred_ids = image['gt_ids'], image['pred_ids']
        ignored = gt_ids == 0
        for g in image['gt_segments']:
            if g['iscrowd']:
                ignored |= gt_ids == g['id']
        size = gt_ids.size if normalize else 1
        for g in image['gt_segments']:
            if g['iscrowd']:
                continue
            region = gt_ids == g['id']
            best = 0.0
            for p in image['pred_segments']:
                if p['category_id'] != g['category_id']:
                    continue
                pred_region = (pred_ids == p['id']) & ~ignored
                inter = np.sum(region & pred_region)
                if inter:
                    best = max(best, inter / np.sum(region | pred_region))
            label = cat_to_label[g['category_id']]
            weighted[label] += region.sum() / size * best
            area[label] += region.sum() / size
    per_class = [w / a if a > 0 else None for w, a in zip(weighted, area)]

    def mean(select):
        vals = [v for v, t in zip(per_class, is_thing)
                if v is not None and select(t)]
        return 100 * float(np.mean(vals)) if vals else 0.0

    return (mean(lambda t: True), mean(lambda t: t), mean(lambda t: not t),
            per_class)


def reference_miou(images, categories):
    """Semantic mIoU (percent) of the panoptic maps and per-class IoU."""
    cat_to_label, _ = _labels(categories)
    num = len(categories)
    inter, union = np.zeros(num), np.zeros(num)
    for image in images:
        gt_sem = np.full(image['gt_ids'].shape, -1)
        for g in image['gt_segments']:
            gt_sem[image['gt_ids'] == g['id']] = cat_to_label[
                g['category_id']]
        pred_sem = np.full(image['pred_ids'].shape, -1)
        for p in image['pred_segments']:
            pred_sem[image['pred_ids'] == p['id']] = cat_to_label[
                p['category_id']]
        labelled = gt_sem >= 0
        for c in range(num):
            gt_c, pred_c = gt_sem == c, (pred_sem == c) & labelled
            inter[c] += np.sum(gt_c & pred_c)
            union[c] += np.sum(gt_c | pred_c)
    per_class = [i / u if u > 0 else None for i, u in zip(inter, union)]
    valid = [v for v in per_class if v is not None]
    return 100 * float(np.mean(valid)), per_class
