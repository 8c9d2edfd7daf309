"""Panoptic metric suite: PQ, PQ†, Parsing Covering, mIoU, box/mask mAP."""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.fileio import dump, get, load
from mmengine.logging import MMLogger

from mmpanoptic_cabb.structures.panoptic_segments import renumber_segments

from ..functional import (DEFAULT_PERCENTILES, SUMMARY_KEYS,
                          PanopticFormatError,
                          PanopticStats, confusion_with_panoptic_pred,
                          decode_panoptic_png, evaluate_instances,
                          format_per_class_table, format_summary_table,
                          image_panoptic_stats, masks_to_rles,
                          read_panoptic_png, segments_to_rles,
                          summarize_panoptic_stats, write_panoptic_png)
from ..functional.instance_rle import mask_utils


def _to_numpy(value) -> np.ndarray:
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


#: Key prefix of the per-class PQ values (``classwise=True``).
PER_CLASS_PQ_PREFIX = 'PQ_class_'

@METRICS.register_module()
class PanopticQualityMetric(BaseMetric):
    """PQ/SQ/RQ, PQ†, Parsing Covering, mIoU and instance mAP in one pass.

    For every image the metric reads the ground-truth panoptic PNG once,
    counts it against the in-memory prediction ``pred_panoptic_seg.sem_seg``
    (``label + instance * INSTANCE_OFFSET``, labels ``>= num_classes`` void)
    and keeps additive per-class statistics, gathered across ranks by
    mmengine. See :mod:`mmpanoptic_cabb.evaluation.functional` for the exact
    definitions (PQ follows COCO panopticapi to the last digit).

    When the data samples carry ``pred_instances`` (``bboxes``, ``scores``,
    ``labels``, optionally ``masks``: an (N, H, W) binary array or a list of
    N COCO RLEs, as the segmentor's memory-bounded prediction gives), box
    and mask mAP of the instance branch
    are computed with pycocotools against instance ground truth derived from
    the panoptic annotation (thing segments; crowd segments as ``iscrowd``),
    overall and by percentile of the ground-truth instance areas.

    Ground truth comes either from ``ann_file`` + ``seg_prefix`` (a COCO
    panoptic JSON; works with mmdet's default ``PackDetInputs`` meta keys) or
    from the data samples' ``seg_map_path`` and ``segments_info`` (the
    pipeline must pack those meta keys).

    Args:
        ann_file (str, optional): COCO panoptic ground-truth JSON. Its
            category ids name the classes in written predictions.
        seg_prefix (str, optional): Folder of the ground-truth PNGs; defaults
            to the folder of each sample's ``seg_map_path``.
        classwise (bool): Log per-class tables and return every class's
            PQ as ``PQ_class_<name>`` (NaN for a class absent from ground
            truth and prediction). Defaults to False.
        format_only (bool): Only write predictions in COCO panoptic format
            (needs ``outfile_prefix``); no ground truth is read.
        outfile_prefix (str, optional): Write ``<prefix>.panoptic.json`` and
            the PNGs in ``<prefix>.panoptic/``.
        pc_normalize (bool): Parsing Covering areas divided by image size
            (DeeperLab's default). Defaults to True.
        instance_iou_types (Sequence[str]): AP types computed when
            ``pred_instances`` are present. Defaults to ('bbox', 'segm').
        area_percentiles (Sequence[float], optional): Inner edges of the
            area-percentile AP buckets; None disables them.
        max_dets (int): Detections per image for AP. Defaults to 100.
        backend_args (dict, optional): mmengine file backend for the ground
            truth.
        collect_device (str): 'cpu' or 'gpu'. Defaults to 'cpu'.
        prefix (str, optional): Metric name prefix. Defaults to 'panoptic'.
    """
    default_prefix: Optional[str] = 'panoptic'

    def __init__(self,
                 ann_file: Optional[str] = None,
                 seg_prefix: Optional[str] = None,
                 classwise: bool = False,
                 format_only: bool = False,
                 outfile_prefix: Optional[str] = None,
                 pc_normalize: bool = True,
                 instance_iou_types: Sequence[str] = ('bbox', 'segm'),
                 area_percentiles: Optional[Sequence[float]] = (
                     DEFAULT_PERCENTILES),
                 max_dets: int = 100,
                 backend_args: Optional[dict] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if format_only and outfile_prefix is None:
            raise ValueError('format_only=True needs an outfile_prefix')
        self.ann_file = ann_file
        self.seg_prefix = seg_prefix
        self.classwise = classwise
        self.format_only = format_only
        self.outfile_prefix = outfile_prefix
        self.pc_normalize = pc_normalize
        self.instance_iou_types = tuple(instance_iou_types)
        self.area_percentiles = area_percentiles
        self.max_dets = max_dets
        self.backend_args = backend_args
        self._gt_json = load(ann_file, backend_args=backend_args) \
            if ann_file else None
        self._meta: Optional[dict] = None

    # ------------------------------------------------------------ set-up
    def _class_info(self) -> dict:
        """Labels, thing flags and category ids, derived once."""
        if self._meta is not None:
            return self._meta
        classes = list(self.dataset_meta['classes'])
        thing_names = set(self.dataset_meta.get('thing_classes', []))
        cat_ids = list(range(len(classes)))
        is_thing = np.array([c in thing_names for c in classes], dtype=bool)
        gt_anns = {}
        if self._gt_json is not None:
            by_name = {c['name']: c for c in self._gt_json['categories']}
            missing = [c for c in classes if c not in by_name]
            if missing:
                raise ValueError(f'classes {missing} are not categories of '
                                 f'{self.ann_file}')
            cat_ids = [by_name[c]['id'] for c in classes]
            if not thing_names:
                is_thing = np.array(
                    [bool(by_name[c].get('isthing', 0)) for c in classes])
            gt_anns = {
                a['image_id']: a
                for a in self._gt_json.get('annotations', [])
            }
        self._meta = dict(
            classes=classes,
            num_classes=len(classes),
            is_thing=is_thing,
            cat_ids=cat_ids,
            cat_to_label={c: i
                          for i, c in enumerate(cat_ids)},
            thing_labels=np.flatnonzero(is_thing),
            gt_anns=gt_anns)
        return self._meta

    # ------------------------------------------------------------ ground truth
    def _load_gt(self, sample: dict) -> Tuple[np.ndarray, dict]:
        """Ground-truth id map and segments (ids, labels, crowd flags)."""
        meta = self._class_info()
        if meta['gt_anns']:
            ann = meta['gt_anns'].get(sample['img_id'])
            if ann is None:
                raise PanopticFormatError(
                    f'image_id={sample["img_id"]} is not annotated in '
                    f'{self.ann_file}',
                    image=sample['img_id'])
            folder = self.seg_prefix or osp.dirname(
                sample.get('seg_map_path') or '')
            path = osp.join(folder, ann['file_name'])
            segs = ann['segments_info']
            ids = [s['id'] for s in segs]
            labels = []
            for s in segs:
                if s['category_id'] not in meta['cat_to_label']:
                    raise PanopticFormatError(
                        f'gt image {ann["file_name"]!r}: segment id '
                        f'{s["id"]} has unknown category_id '
                        f'{s["category_id"]}',
                        image=ann['file_name'],
                        segment_id=s['id'])
                labels.append(meta['cat_to_label'][s['category_id']])
            crowd = [bool(s.get('iscrowd', 0)) for s in segs]
        else:
            path = sample['seg_map_path']
            if self.seg_prefix:
                path = osp.join(self.seg_prefix, osp.basename(path))
            segs = sample['segments_info']
            ids = [s['id'] for s in segs]
            labels = [s['category'] for s in segs]
            # mmdet's CocoPanopticDataset marks crowd things is_thing=False
            crowd = [
                bool(meta['is_thing'][s['category']]) and not s['is_thing']
                for s in segs
            ]
        if self.backend_args:
            gt_map = decode_panoptic_png(
                get(path, backend_args=self.backend_args), path)
        else:
            gt_map = read_panoptic_png(path)
        return gt_map, dict(
            path=path,
            ids=np.array(ids, dtype=np.int64),
            labels=np.array(labels, dtype=np.int64),
            crowd=np.array(crowd, dtype=bool))

    # ------------------------------------------------------------ process
    def _png_name(self, sample: dict) -> str:
        meta = self._class_info()
        ann = meta['gt_anns'].get(sample.get('img_id'))
        if ann is not None:
            return ann['file_name']
        source = sample.get('seg_map_path') or sample['img_path']
        return osp.splitext(osp.basename(source))[0] + '.png'

    def _write_prediction(self, sample: dict, pan: np.ndarray,
                          pred_ids: np.ndarray, pred_labels: np.ndarray,
                          pred_areas: np.ndarray) -> dict:
        """Write the PNG (ids 1..P) and return the image's JSON entry."""
        meta = self._class_info()
        name = self._png_name(sample)
        out = renumber_segments(pan, pred_ids)  # pred_ids are sorted (np.unique)
        write_panoptic_png(
            osp.join(f'{self.outfile_prefix}.panoptic', name), out)
        segments = [
            dict(
                id=int(k + 1),
                category_id=int(meta['cat_ids'][label]),
                isthing=int(meta['is_thing'][label]),
                iscrowd=0,
                area=int(area))
            for k, (label, area) in enumerate(zip(pred_labels, pred_areas))
        ]
        return dict(
            image_id=sample.get('img_id'),
            file_name=name,
            segments_info=segments)

    def _instances(self, sample: dict, gt_map: np.ndarray, gt: dict,
                   gt_areas: np.ndarray) -> Optional[dict]:
        """Ground-truth and predicted instances of one image, for mAP."""
        pred = sample.get('pred_instances')
        if not self.instance_iou_types or pred is None:
            return None
        meta = self._class_info()
        things = np.flatnonzero(meta['is_thing'][gt['labels']]) \
            if gt['labels'].size else np.zeros(0, dtype=np.int64)
        rles = segments_to_rles(gt_map, gt['ids'][things])
        boxes = mask_utils.toBbox(rles) if rles else np.zeros((0, 4))
        gt_insts = [
            dict(
                category_id=int(meta['cat_ids'][gt['labels'][k]]),
                segmentation=rle,
                bbox=[float(v) for v in box],
                area=float(gt_areas[k]),
                iscrowd=int(gt['crowd'][k]))
            for k, rle, box in zip(things, rles, boxes)
        ]
        labels = _to_numpy(pred['labels']).astype(np.int64)
        scores = _to_numpy(pred['scores']).astype(np.float64)
        bboxes = _to_numpy(pred['bboxes']).astype(np.float64).reshape(-1, 4)
        masks = pred.get('masks')
        if isinstance(masks, (list, tuple)):
            mask_rles = list(masks)
        elif masks is not None and len(labels):
            mask_rles = masks_to_rles(_to_numpy(masks))
        else:
            mask_rles = [None] * len(labels)
        pred_insts = []
        for k in range(len(labels)):
            x1, y1, x2, y2 = bboxes[k]
            label = meta['thing_labels'][labels[k]]
            pred_insts.append(
                dict(
                    category_id=int(meta['cat_ids'][label]),
                    score=float(scores[k]),
                    bbox=[x1, y1, x2 - x1, y2 - y1],
                    segmentation=mask_rles[k]))
        height, width = gt_map.shape
        return dict(
            image_id=sample['img_id'],
            height=height,
            width=width,
            gt=gt_insts,
            pred=pred_insts,
            has_masks=masks is not None)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Count one batch; one result per image is kept.

        Args:
            data_batch (dict): Unused.
            data_samples (Sequence[dict]): Samples with ``pred_panoptic_seg``
                (and optionally ``pred_instances``).
        """
        meta = self._class_info()
        for sample in data_samples:
            pan = _to_numpy(sample['pred_panoptic_seg']['sem_seg'])
            pan = pan.reshape(pan.shape[-2:])
            result = dict(stats=None, pred_ann=None, instances=None)
            if self.format_only:
                gt_map = np.zeros(pan.shape, dtype=np.uint32)
                gt = dict(ids=np.zeros(0, dtype=np.int64))
            else:
                gt_map, gt = self._load_gt(sample)
                if gt_map.shape != pan.shape:
                    raise PanopticFormatError(
                        f'prediction for image_id={sample.get("img_id")} is '
                        f'{pan.shape[1]}x{pan.shape[0]} but ground truth '
                        f'{gt["path"]!r} is {gt_map.shape[1]}x'
                        f'{gt_map.shape[0]}',
                        image=gt['path'])
            confusion, pred_ids, pred_labels, _ = \
                confusion_with_panoptic_pred(gt_map, gt['ids'], pan,
                                             meta['num_classes'],
                                             INSTANCE_OFFSET)
            if self.outfile_prefix is not None:
                result['pred_ann'] = self._write_prediction(
                    sample, pan, pred_ids, pred_labels,
                    confusion[:, 1:].sum(axis=0))
            if not self.format_only:
                result['stats'] = image_panoptic_stats(
                    confusion,
                    gt['labels'],
                    gt['crowd'],
                    pred_labels,
                    meta['is_thing'],
                    num_pixels=gt_map.size,
                    pc_normalize=self.pc_normalize)
                gt_areas = confusion[1:gt['ids'].size + 1].sum(axis=1)
                result['instances'] = self._instances(sample, gt_map, gt,
                                                      gt_areas)
            self.results.append(result)

    # ------------------------------------------------------------ compute
    def _dump_predictions(self, results: List[dict],
                          logger: MMLogger) -> None:
        meta = self._class_info()
        categories = [
            dict(id=int(c), name=n, isthing=int(t))
            for c, n, t in zip(meta['cat_ids'], meta['classes'],
                               meta['is_thing'])
        ]
        path = f'{self.outfile_prefix}.panoptic.json'
        dump(
            dict(
                annotations=[r['pred_ann'] for r in results],
                categories=categories), path)
        logger.info(f'panoptic predictions written to {path} and '
                    f'{self.outfile_prefix}.panoptic/')

    def _instance_metrics(self, results: List[dict],
                          logger: MMLogger) -> Dict[str, float]:
        images = [r['instances'] for r in results if r['instances']]
        if not images:
            return {}
        meta = self._class_info()
        iou_types = [
            t for t in self.instance_iou_types
            if t == 'bbox' or all(im['has_masks'] for im in images)
        ]
        categories = [
            dict(id=int(meta['cat_ids'][k]), name=meta['classes'][k])
            for k in meta['thing_labels']
        ]
        out = evaluate_instances(
            [dict(im, instances=im['gt']) for im in images],
            [dict(im, instances=im['pred']) for im in images],
            categories,
            iou_types=iou_types,
            percentiles=self.area_percentiles,
            max_dets=self.max_dets,
            classwise=self.classwise)
        logger.info('Instance evaluation (COCO AP):\n' + out['summary'])
        logger.info(f'AP area buckets (pixels): {out["area_buckets"]}')
        for iou_type in iou_types:
            if f'{iou_type}_per_class' in out:
                rows = '\n'.join(
                    f'{name:24s} {ap:7.2f}'
                    for name, ap in out[f'{iou_type}_per_class'].items())
                logger.info(f'{iou_type} AP per class:\n{rows}')
        return {
            k: float(v)
            for k, v in out.items() if k.startswith(tuple(iou_types))
            and not k.endswith('_per_class')
        }

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Sum the per-image statistics and compute the metrics.

        Args:
            results (list[dict]): Per-image results of all ranks.

        Returns:
            dict[str, float]: ``PQ, SQ, RQ, PQ_th, ..., PQ_dagger,
            PQ_dagger_th, PQ_dagger_st, PC, PC_th, PC_st, mIoU`` and, with
            instance predictions, ``bbox_mAP...``/``segm_mAP...`` (with the
            area-percentile buckets ``<type>_mAP_p<lo>-<hi>`` and their
            recall ``<type>_mAR_p<lo>-<hi>``), with
            ``classwise`` ``PQ_class_<name>`` (all in percent). Empty with
            ``format_only``.
        """
        logger: MMLogger = MMLogger.get_current_instance()
        meta = self._class_info()
        if self.outfile_prefix is not None:
            self._dump_predictions(results, logger)
        if self.format_only:
            return {}
        stats = PanopticStats.sum((r['stats'] for r in results),
                                  meta['num_classes'])
        summary = summarize_panoptic_stats(stats, meta['is_thing'],
                                           meta['classes'])
        logger.info('Panoptic evaluation results:\n' +
                    format_summary_table(summary))
        if self.classwise:
            logger.info('Per-class panoptic results:\n' +
                        format_per_class_table(summary))
        metrics = {k: float(summary[k]) for k in SUMMARY_KEYS}
        if self.classwise:
            for row in summary['per_class']:
                metrics[f'{PER_CLASS_PQ_PREFIX}{row["name"]}'] = float(
                    'nan') if row['PQ'] is None else float(row['PQ'])
        metrics.update(self._instance_metrics(results, logger))
        return metrics
