"""Evaluate a COCO panoptic result folder against COCO panoptic ground truth.

The inputs are the usual pair of JSON + PNG folder for the ground truth and
for the prediction (the format of ``panopticapi.evaluation.pq_compute``).
Every image is read once and yields a :class:`PanopticStats`; the sum gives
PQ/SQ/RQ, PQ†, Parsing Covering and mIoU (see
:mod:`.panoptic_image_stats` for the definitions).
"""
import json
import multiprocessing
import os
import os.path as osp
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Sequence, Tuple, Union

import numpy as np

from mmpanoptic_cabb.structures.errors import PanopticFormatError
from mmpanoptic_cabb.utils.progress import track
from mmpanoptic_cabb.structures.panoptic_png import (MAX_PANOPTIC_ID,
                                                     read_panoptic_png,
                                                     write_panoptic_png)
from .panoptic_image_stats import image_panoptic_stats
from .panoptic_stats import PanopticStats
from .panoptic_summary import summarize_panoptic_stats
from .segment_confusion import confusion_from_runs, run_length_pairs


@dataclass(frozen=True)
class _EvalContext:
    """What every image of an evaluation needs besides its annotations."""
    gt_folder: str
    pred_folder: str
    cat_to_label: Dict[int, int]
    is_thing: np.ndarray
    pc_normalize: bool
    strict: bool
    decode_threads: int


def load_json(source: Union[str, dict]) -> dict:
    """Load a JSON file (or pass a dict through)."""
    if isinstance(source, dict):
        return source
    with open(source) as f:
        return json.load(f)


def write_coco_panoptic_pair(
    root: str,
    samples: Iterable[dict],
    categories: Sequence[dict],
    save_png: Callable[[str, np.ndarray], object] = write_panoptic_png
) -> Dict[str, str]:
    """Write ground truth and prediction in the layout evaluated here.

    Under ``root``: ``gt.json`` and ``gt/``, ``pred.json`` and ``pred/``;
    image ``k`` of ``samples`` gets ``image_id`` k in both JSONs.

    Args:
        root (str): Output folder.
        samples (Iterable[dict]): Per image ``file_name`` (of both PNGs),
            ``gt_ids`` and ``pred_ids`` (segment id maps, 0 void) and
            ``gt_segments`` and ``pred_segments`` (their ``segments_info``,
            written as given). Consumed one image at a time.
        categories (Sequence[dict]): COCO ``categories`` of the ground truth.
        save_png (Callable[[str, np.ndarray], object]): Writes an id map as
            a panoptic PNG. Defaults to :func:`write_panoptic_png`.

    Returns:
        dict[str, str]: Paths ``gt_json``, ``gt_folder``, ``pred_json`` and
        ``pred_folder``, the arguments of :func:`evaluate_coco_panoptic`.
    """
    paths = {}
    anns = dict(gt=[], pred=[])
    for side in anns:
        paths[f'{side}_json'] = osp.join(root, f'{side}.json')
        paths[f'{side}_folder'] = osp.join(root, side)
        os.makedirs(paths[f'{side}_folder'], exist_ok=True)
    images = []
    for k, sample in enumerate(samples):
        name = sample['file_name']
        h, w = sample['gt_ids'].shape
        images.append(dict(id=k, file_name=name, height=h, width=w))
        for side, side_anns in anns.items():
            save_png(
                osp.join(paths[f'{side}_folder'], name), sample[f'{side}_ids'])
            side_anns.append(
                dict(
                    image_id=k,
                    file_name=name,
                    segments_info=sample[f'{side}_segments']))
    with open(paths['gt_json'], 'w') as f:
        json.dump(
            dict(
                images=images,
                annotations=anns['gt'],
                categories=list(categories)), f)
    with open(paths['pred_json'], 'w') as f:
        json.dump(dict(annotations=anns['pred']), f)
    return paths


def parse_categories(categories: Sequence[dict]) -> Tuple[Dict[int, int],
                                                           np.ndarray,
                                                           List[str]]:
    """Map COCO category ids to contiguous labels (in the JSON's order).

    Args:
        categories (Sequence[dict]): COCO ``categories`` entries with ``id``,
            ``isthing`` and optionally ``name``.

    Returns:
        tuple: ``{category_id: label}``, (C,) bool ``is_thing`` and names.
    """
    cat_to_label, is_thing, names = {}, [], []
    for cat in categories:
        if cat['id'] in cat_to_label:
            raise PanopticFormatError(
                f'category id {cat["id"]} is listed twice in the categories')
        cat_to_label[cat['id']] = len(is_thing)
        is_thing.append(bool(cat.get('isthing', 0)))
        names.append(str(cat.get('name', cat['id'])))
    return cat_to_label, np.array(is_thing, dtype=bool), names


def parse_segments(ann: dict, cat_to_label: Dict[int, int],
                   role: str) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate the ``segments_info`` of one image annotation.

    Args:
        ann (dict): COCO panoptic annotation of one image.
        cat_to_label (dict[int, int]): Category id to label.
        role (str): ``'gt'`` or ``'pred'``, for the messages.

    Returns:
        tuple[np.ndarray, np.ndarray, np.ndarray]: ids, labels, crowd flags.

    Raises:
        PanopticFormatError: Duplicate or zero segment id, unknown category.
    """
    image = ann.get('file_name', ann.get('image_id'))
    where = f'{role} image {image!r} (image_id={ann.get("image_id")})'
    ids, labels, crowd, seen = [], [], [], set()
    for seg in ann.get('segments_info', []):
        seg_id = int(seg['id'])
        if seg_id == 0:
            raise PanopticFormatError(
                f'{where}: segment id 0 is reserved for void',
                image=image,
                segment_id=0)
        if seg_id in seen:
            raise PanopticFormatError(
                f'{where}: duplicate segment id {seg_id}',
                image=image,
                segment_id=seg_id)
        seen.add(seg_id)
        if seg['category_id'] not in cat_to_label:
            raise PanopticFormatError(
                f'{where}: segment id {seg_id} has unknown category_id '
                f'{seg["category_id"]}',
                image=image,
                segment_id=seg_id)
        ids.append(seg_id)
        labels.append(cat_to_label[seg['category_id']])
        crowd.append(bool(seg.get('iscrowd', 0)) and role == 'gt')
    return (np.array(ids, dtype=np.int64), np.array(labels, dtype=np.int64),
            np.array(crowd, dtype=bool))


def _read_pair(gt_path: str, pred_path: str,
               threads: int) -> Tuple[np.ndarray, np.ndarray]:
    if threads > 1:
        # OpenCV releases the GIL: the prediction decodes in the worker
        # thread while this thread decodes the ground truth
        with ThreadPoolExecutor(1) as pool:
            pred_job = pool.submit(read_panoptic_png, pred_path, 'opencv',
                                   True)
            gt_map = read_panoptic_png(gt_path, keep_alpha=True)
            return gt_map, pred_job.result()
    return (read_panoptic_png(gt_path, keep_alpha=True),
            read_panoptic_png(pred_path, keep_alpha=True))


def evaluate_image_pair(gt_ann: dict, pred_ann: dict,
                        ctx: _EvalContext) -> PanopticStats:
    """Statistics of one image from its ground-truth and predicted files.

    Args:
        gt_ann (dict): Ground-truth annotation of the image.
        pred_ann (dict): Predicted annotation of the image.
        ctx (_EvalContext): Folders, categories and options.

    Returns:
        PanopticStats: The image's statistics.

    Raises:
        PanopticFormatError: On any inconsistency, naming image and id.
    """
    gt_ids, gt_labels, gt_crowd = parse_segments(gt_ann, ctx.cat_to_label,
                                                 'gt')
    pred_ids, pred_labels, _ = parse_segments(pred_ann, ctx.cat_to_label,
                                              'pred')
    gt_name, pred_name = gt_ann['file_name'], pred_ann['file_name']
    gt_map, pred_map = _read_pair(
        osp.join(ctx.gt_folder, gt_name), osp.join(ctx.pred_folder,
                                                   pred_name),
        ctx.decode_threads)
    if gt_map.shape != pred_map.shape:
        raise PanopticFormatError(
            f'image_id={gt_ann["image_id"]}: prediction {pred_name!r} is '
            f'{pred_map.shape[1]}x{pred_map.shape[0]} but ground truth '
            f'{gt_name!r} is {gt_map.shape[1]}x{gt_map.shape[0]}',
            image=pred_name)
    # the maps keep the PNG alpha in their top byte: runs are split where
    # the raw values change, and only the run values are masked to ids
    gt_vals, pred_vals, lengths = run_length_pairs(gt_map, pred_map)
    mask = np.uint32(MAX_PANOPTIC_ID)
    zero = np.zeros(1, dtype=np.int64)
    confusion, unknown_gt, unknown_pred = confusion_from_runs(
        gt_vals & mask, pred_vals & mask, lengths, gt_ids, pred_ids, zero,
        zero)
    if unknown_pred.size:
        raise PanopticFormatError(
            f'pred image {pred_name!r} (image_id={gt_ann["image_id"]}): '
            f'segment id {int(unknown_pred[0])} is in the PNG but not in the '
            'JSON',
            image=pred_name,
            segment_id=int(unknown_pred[0]))
    pred_area = confusion[:, 1:].sum(axis=0)
    if (pred_area == 0).any():
        missing = int(pred_ids[np.flatnonzero(pred_area == 0)[0]])
        raise PanopticFormatError(
            f'pred image {pred_name!r} (image_id={gt_ann["image_id"]}): '
            f'segment id {missing} is in the JSON but not in the PNG',
            image=pred_name,
            segment_id=missing)
    if ctx.strict and unknown_gt.size:
        raise PanopticFormatError(
            f'gt image {gt_name!r} (image_id={gt_ann["image_id"]}): segment '
            f'id {int(unknown_gt[0])} is in the PNG but not in the JSON',
            image=gt_name,
            segment_id=int(unknown_gt[0]))
    return image_panoptic_stats(
        confusion,
        gt_labels,
        gt_crowd,
        pred_labels,
        ctx.is_thing,
        num_pixels=gt_map.size,
        pc_normalize=ctx.pc_normalize)


def _evaluate_chunk(args: Tuple[List[Tuple[dict, dict]], _EvalContext]
                    ) -> PanopticStats:
    pairs, ctx = args
    return PanopticStats.sum(
        (evaluate_image_pair(gt, pred, ctx) for gt, pred in pairs),
        ctx.is_thing.size)


def match_annotations(gt_json: dict,
                      pred_json: dict) -> List[Tuple[dict, dict]]:
    """Pair every ground-truth image annotation with its prediction.

    Raises:
        PanopticFormatError: An image has no prediction, or two.
    """
    preds: Dict[int, dict] = {}
    for ann in pred_json.get('annotations', []):
        if ann['image_id'] in preds:
            raise PanopticFormatError(
                f'image_id={ann["image_id"]} has two predicted annotations',
                image=ann['image_id'])
        preds[ann['image_id']] = ann
    pairs = []
    for gt_ann in gt_json['annotations']:
        image_id = gt_ann['image_id']
        if image_id not in preds:
            raise PanopticFormatError(
                f'no prediction for image_id={image_id} '
                f'({gt_ann.get("file_name")!r})',
                image=gt_ann.get('file_name', image_id))
        pairs.append((gt_ann, preds[image_id]))
    return pairs


def compute_coco_panoptic_stats(gt_json: Union[str, dict],
                                gt_folder: str,
                                pred_json: Union[str, dict],
                                pred_folder: str,
                                nproc: int = 1,
                                pc_normalize: bool = True,
                                strict: bool = True,
                                decode_threads: int = 1
                                ) -> Tuple[PanopticStats, dict]:
    """Statistics of a whole result folder.

    Args:
        gt_json (str | dict): Ground-truth COCO panoptic JSON (or its dict).
        gt_folder (str): Folder of the ground-truth PNGs.
        pred_json (str | dict): Predicted COCO panoptic JSON (or its dict).
        pred_folder (str): Folder of the predicted PNGs.
        nproc (int): Worker processes (1 = in this process).
        pc_normalize (bool): Parsing Covering normalised by image size.
        strict (bool): Reject ground-truth ids that the JSON does not list
            (panopticapi silently ignores them).
        decode_threads (int): 2 decodes the two PNGs of an image
            concurrently (useful when ``nproc`` is 1).

    Returns:
        tuple[PanopticStats, dict]: Summed statistics and the ground-truth
        JSON (for the categories).
    """
    gt_json, pred_json = load_json(gt_json), load_json(pred_json)
    cat_to_label, is_thing, _ = parse_categories(gt_json['categories'])
    pairs = match_annotations(gt_json, pred_json)
    ctx = _EvalContext(gt_folder, pred_folder, cat_to_label, is_thing,
                       pc_normalize, strict, decode_threads)
    nproc = max(1, min(int(nproc), len(pairs)))
    description = f'panoptic evaluation: {len(pairs)} images'
    if nproc == 1:
        return PanopticStats.sum(
            (evaluate_image_pair(gt, pred, ctx)
             for gt, pred in track(pairs, description=description)),
            is_thing.size), gt_json
    chunks = [([pairs[i] for i in idx], ctx)
              for idx in np.array_split(np.arange(len(pairs)), nproc * 4)
              if len(idx)]
    with multiprocessing.Pool(nproc) as pool:
        parts = list(track(pool.imap(_evaluate_chunk, chunks),
                           total=len(chunks), description=description))
    return PanopticStats.sum(parts, is_thing.size), gt_json


def evaluate_coco_panoptic(*args, **kwargs) -> Dict[str, object]:
    """PQ, SQ, RQ (all/things/stuff), PQ†, PC, mIoU of a result folder.

    Args:
        *args: Arguments of :func:`compute_coco_panoptic_stats`, in its
            order (``gt_json, gt_folder, pred_json, pred_folder, nproc,
            pc_normalize, strict, decode_threads``).
        **kwargs: The same by name.

    Returns:
        dict: :func:`summarize_panoptic_stats` output (percent) plus
        ``num_images``.
    """
    stats, gt = compute_coco_panoptic_stats(*args, **kwargs)
    _, is_thing, names = parse_categories(gt['categories'])
    summary = summarize_panoptic_stats(stats, is_thing, names)
    summary['num_images'] = len(gt['annotations'])
    return summary


__all__ = [
    'evaluate_coco_panoptic', 'compute_coco_panoptic_stats',
    'evaluate_image_pair', 'parse_categories', 'parse_segments',
    'match_annotations', 'load_json', 'write_coco_panoptic_pair'
]
