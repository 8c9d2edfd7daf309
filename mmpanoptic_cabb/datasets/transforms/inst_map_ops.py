"""Pure numpy operations on instance id maps and panoptic id maps.

An *instance id map* (``gt_inst_map``) is an ``int32`` (H, W) array holding
``k + 1`` at the pixels of instance ``k`` (row ``k`` of ``gt_bboxes``) and 0
elsewhere. It replaces the ``N`` full-resolution per-instance masks until the
image has been cropped.
"""
from typing import Sequence, Tuple

import cv2
import numpy as np
from scipy import ndimage

#: Semantic label of pixels that belong to no annotated segment.
VOID_LABEL = 255


def panoptic_to_semantic_and_instances(
        pan_ids: np.ndarray, segment_ids: Sequence[int],
        segment_labels: Sequence[int], instance_segment_ids: Sequence[int],
        seg_dtype: type) -> Tuple[np.ndarray, np.ndarray]:
    """Turn a panoptic id map into a semantic map and an instance id map.

    One gather through a table indexed by segment id gives every pixel the
    compact index of its segment (uint8 for fewer than 255 segments); two
    small tables then give the label and the instance id. This replaces one
    full-image comparison per segment.

    Args:
        pan_ids (np.ndarray): (H, W) non-negative integer segment ids, e.g.
            the uint32 map of ``structures.panoptic_png``.
        segment_ids (Sequence[int]): Ids of the annotated segments.
        segment_labels (Sequence[int]): Semantic label of each segment.
            Pixels of other ids get :data:`VOID_LABEL`. When ids repeat, the
            last entry wins.
        instance_segment_ids (Sequence[int]): Segment ids of the instances,
            in row order: instance ``k`` gets value ``k + 1``.
        seg_dtype (type): dtype of the semantic map.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(seg_map, inst_map)``, both (H, W);
        ``inst_map`` is int32.
    """
    segment_ids = np.asarray(segment_ids, dtype=np.int64).reshape(-1)
    instance_segment_ids = np.asarray(
        instance_segment_ids, dtype=np.int64).reshape(-1)
    num = segment_ids.size
    max_id = int(pan_ids.max()) if pan_ids.size else 0
    if num:
        max_id = max(max_id, int(segment_ids.max()))
    index_dtype = np.uint8 if num < 255 else (
        np.uint16 if num < 65535 else np.int32)
    lut = np.full(max_id + 1, num, dtype=index_dtype)
    lut[segment_ids] = np.arange(num, dtype=index_dtype)
    compact = np.take(lut, pan_ids.astype(np.intp))  # num = not annotated

    sem_table = np.full(num + 1, VOID_LABEL, dtype=seg_dtype)
    sem_table[:num] = np.asarray(segment_labels, dtype=seg_dtype)
    inst_table = np.zeros(num + 1, dtype=np.int32)
    inst_table[lut[instance_segment_ids]] = np.arange(
        1, instance_segment_ids.size + 1, dtype=np.int32)
    return _gather(sem_table, compact), _gather(inst_table, compact)


def segment_id_mismatch(pan_ids: np.ndarray, segment_ids: Sequence[int]
                        ) -> Tuple[np.ndarray, np.ndarray]:
    """Segment ids of a panoptic id map that its JSON does not list, and back.

    Args:
        pan_ids (np.ndarray): (H, W) non-negative integer segment ids (0 =
            void).
        segment_ids (Sequence[int]): Ids of the JSON's ``segments_info``.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(unknown, missing)``: sorted ids
        present in the map but not in the JSON (0 excluded), and JSON ids
        with no pixel in the map.
    """
    segment_ids = np.asarray(segment_ids, dtype=np.int64).reshape(-1)
    max_id = int(pan_ids.max()) if pan_ids.size else 0
    if segment_ids.size:
        max_id = max(max_id, int(segment_ids.max()))
    present = np.zeros(max_id + 1, dtype=bool)
    present[pan_ids] = True
    listed = np.zeros(max_id + 1, dtype=bool)
    listed[segment_ids] = True
    listed[0] = True
    unknown = np.flatnonzero(present & ~listed)
    missing = np.unique(segment_ids[~present[segment_ids]])
    return unknown, missing


def _gather(table: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``table[index]``, with cv2's 8-bit LUT when everything fits 8 bits."""
    if index.dtype == np.uint8 and table.size <= 256 and (
            table.size == 0 or 0 <= table.min() and table.max() <= 255):
        lut = np.zeros(256, dtype=np.uint8)
        lut[:table.size] = table
        out = cv2.LUT(index, lut)
        return out if table.dtype == np.uint8 else out.astype(table.dtype)
    return np.take(table, index.astype(np.intp))


def boxes_from_inst_map(inst_map: np.ndarray,
                        num_instances: int) -> Tuple[np.ndarray, np.ndarray]:
    """Tight boxes of every instance of an instance id map.

    Same convention as mmdet's ``HorizontalBoxes.from_instance_masks``:
    ``(x_min, y_min, x_max + 1, y_max + 1)``, all zeros for an instance
    without pixels. An instance made of several disconnected pieces gets one
    box around all of them.

    Args:
        inst_map (np.ndarray): (H, W) integer instance id map.
        num_instances (int): Number of instances ``N`` (ids ``1..N``).

    Returns:
        tuple[np.ndarray, np.ndarray]: (N, 4) float32 boxes and (N,) bool
        ``present`` (the instance has at least one pixel).
    """
    boxes = np.zeros((num_instances, 4), dtype=np.float32)
    present = np.zeros(num_instances, dtype=bool)
    if num_instances == 0:
        return boxes, present
    slices = ndimage.find_objects(
        np.asarray(inst_map, dtype=np.int32), max_label=num_instances)
    for k, sl in enumerate(slices):
        if sl is not None:
            rows, cols = sl
            boxes[k] = (cols.start, rows.start, cols.stop, rows.stop)
            present[k] = True
    return boxes, present


def relabel_inst_map(inst_map: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Drop instances from an id map and renumber the kept ones.

    Args:
        inst_map (np.ndarray): (H, W) integer id map with ids ``1..N``.
        keep (np.ndarray): (N,) bool, instances to keep.

    Returns:
        np.ndarray: (H, W) int32 map; kept instance ``k`` becomes
        ``rank(k) + 1``, dropped ones become 0.
    """
    keep = np.asarray(keep, dtype=bool)
    lut = np.zeros(keep.size + 1, dtype=np.int32)
    lut[1:][keep] = np.arange(1, int(keep.sum()) + 1, dtype=np.int32)
    return lut[inst_map]


def masks_from_inst_map(inst_map: np.ndarray,
                        num_instances: int) -> np.ndarray:
    """Binary masks of every instance of an id map.

    Args:
        inst_map (np.ndarray): (H, W) integer id map with ids ``1..N``.
        num_instances (int): Number of instances ``N``.

    Returns:
        np.ndarray: (N, H, W) uint8 masks; mask ``k`` is ``inst_map == k+1``.
    """
    h, w = inst_map.shape
    masks = np.zeros((num_instances, h * w), dtype=np.uint8)
    flat = inst_map.reshape(-1)
    pix = np.flatnonzero(flat)
    if pix.size:
        masks[flat[pix].astype(np.intp) - 1, pix] = 1
    return masks.reshape(num_instances, h, w)
