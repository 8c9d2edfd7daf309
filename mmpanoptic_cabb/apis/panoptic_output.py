"""Predictions in the COCO panoptic format (pure numpy, no model).

``pred_panoptic_seg`` holds ``label + instance * INSTANCE_OFFSET`` (void: a
label ``>= num_classes``); the COCO panoptic format numbers the segments of
an image ``1..K`` in a PNG (``id = R + 256 G + 256² B``, 0 void) and lists
them in ``segments_info`` with their category id.
"""
from typing import List, Sequence, Tuple

import numpy as np

from mmpanoptic_cabb.structures.panoptic_segments import (renumber_segments,
                                                         segment_stats)

#: mmdet's panoptic id stride (``mmdet.evaluation.INSTANCE_OFFSET``).
INSTANCE_OFFSET = 1000


def to_coco_panoptic(pan: np.ndarray, num_classes: int, num_things: int,
                     cat_ids: Sequence[int]) -> Tuple[np.ndarray, List[dict]]:
    """Segment id map and ``segments_info`` of a panoptic prediction.

    Args:
        pan (np.ndarray): (H, W) ids ``label + instance * INSTANCE_OFFSET``.
        num_classes (int): Number of classes; larger labels are void.
        num_things (int): Thing classes are labels ``0..num_things-1``.
        cat_ids (Sequence[int]): Category id of every label.

    Returns:
        tuple: the (H, W) uint32 map (segments ``1..K`` in increasing order
        of their panoptic id, 0 void) and the K ``segments_info`` entries
        (``id``, ``category_id``, ``isthing``, ``iscrowd`` = 0, ``area``,
        ``bbox`` = ``[x, y, w, h]``).
    """
    pan = np.asarray(pan, dtype=np.int64)
    ids = np.unique(pan)
    ids = ids[(ids % INSTANCE_OFFSET) < num_classes]
    out = renumber_segments(pan, ids)
    areas, boxes = segment_stats(out.astype(np.int64), int(ids.size))
    segments = []
    for k, pan_id in enumerate(ids.tolist()):
        label = pan_id % INSTANCE_OFFSET
        segments.append(
            dict(id=k + 1, category_id=int(cat_ids[label]),
                 isthing=int(label < num_things), iscrowd=0,
                 area=int(areas[k + 1]), bbox=boxes[k]))
    return out, segments


def instances_to_dict(instances, cat_ids: Sequence[int]) -> dict:
    """Boxes, labels, category ids and scores of ``pred_instances``.

    Args:
        instances (InstanceData): With ``bboxes``, ``labels``, ``scores``.
        cat_ids (Sequence[int]): Category id of every label.

    Returns:
        dict: JSON-serialisable ``bboxes`` ([x1, y1, x2, y2]), ``labels``,
        ``category_ids`` and ``scores``.
    """
    def as_list(value) -> list:
        if hasattr(value, 'detach'):
            value = value.detach().cpu().numpy()
        return np.asarray(value).tolist()

    labels = [int(v) for v in as_list(instances.labels)]
    return dict(
        bboxes=[[float(v) for v in box] for box in as_list(instances.bboxes)],
        labels=labels,
        category_ids=[int(cat_ids[k]) for k in labels],
        scores=[float(v) for v in as_list(instances.scores)])
