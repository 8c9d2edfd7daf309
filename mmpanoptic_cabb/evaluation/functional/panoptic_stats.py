"""Additive per-class statistics of the panoptic metrics."""
from dataclasses import dataclass, fields
from typing import Iterable

import numpy as np


@dataclass
class PanopticStats:
    """Sufficient statistics of PQ, PQ†, Parsing Covering and mIoU.

    Statistics of several images (or ranks, or worker processes) are combined
    with ``+``; the metrics are computed from the sum by
    :func:`summarize_panoptic_stats`. All per-class arrays have shape
    ``(num_classes,)`` and are indexed by contiguous label.

    Attributes:
        num_classes (int): Number of classes ``C``.
        pq_tp (np.ndarray): PQ true positives (int64).
        pq_fp (np.ndarray): PQ false positives (int64).
        pq_fn (np.ndarray): PQ false negatives (int64).
        pq_iou (np.ndarray): Sum of the IoUs of the PQ true positives.
        dagger_iou (np.ndarray): PQ† of stuff classes: sum of the IoUs of all
            same-class (gt, pred) pairs that overlap.
        dagger_count (np.ndarray): PQ† of stuff classes: number of
            non-crowd, non-empty ground-truth segments.
        pc_iou (np.ndarray): Parsing Covering: sum over ground-truth regions
            of ``area * max IoU`` (areas optionally divided by image size).
        pc_area (np.ndarray): Parsing Covering: sum of ground-truth region
            areas (same normalisation).
        sem_index (np.ndarray): Semantic confusion, sparse: flat indices
            ``gt_label * (C + 1) + pred_label`` (label ``C`` = void), int64.
        sem_count (np.ndarray): Pixel counts of ``sem_index`` (int64); an
            index may repeat, counts of equal indices add up.
    """

    num_classes: int
    pq_tp: np.ndarray
    pq_fp: np.ndarray
    pq_fn: np.ndarray
    pq_iou: np.ndarray
    dagger_iou: np.ndarray
    dagger_count: np.ndarray
    pc_iou: np.ndarray
    pc_area: np.ndarray
    sem_index: np.ndarray
    sem_count: np.ndarray

    _SPARSE = ('sem_index', 'sem_count')

    @classmethod
    def zeros(cls, num_classes: int) -> 'PanopticStats':
        """Statistics of no image.

        Args:
            num_classes (int): Number of classes.

        Returns:
            PanopticStats: All-zero statistics.
        """
        ints = {'pq_tp', 'pq_fp', 'pq_fn', 'dagger_count'}
        values = {}
        for field in fields(cls):
            if field.name == 'num_classes':
                continue
            if field.name in cls._SPARSE:
                values[field.name] = np.zeros(0, dtype=np.int64)
            else:
                dtype = np.int64 if field.name in ints else np.float64
                values[field.name] = np.zeros(num_classes, dtype=dtype)
        return cls(num_classes=num_classes, **values)

    def __add__(self, other: 'PanopticStats') -> 'PanopticStats':
        if not isinstance(other, PanopticStats):
            return NotImplemented
        if other.num_classes != self.num_classes:
            raise ValueError('cannot add statistics of '
                             f'{self.num_classes} and {other.num_classes} '
                             'classes')
        values = {}
        for field in fields(self):
            name = field.name
            if name == 'num_classes':
                continue
            mine, theirs = getattr(self, name), getattr(other, name)
            if name in self._SPARSE:
                values[name] = np.concatenate([mine, theirs])
            else:
                values[name] = mine + theirs
        return PanopticStats(num_classes=self.num_classes, **values)

    def semantic_confusion(self) -> np.ndarray:
        """Dense semantic confusion matrix.

        Returns:
            np.ndarray: int64 ``(C + 1, C + 1)``; row = ground-truth label,
            column = predicted label, index ``C`` = void.
        """
        size = self.num_classes + 1
        dense = np.bincount(
            self.sem_index,
            weights=self.sem_count.astype(np.float64),
            minlength=size * size)
        return dense.astype(np.int64).reshape(size, size)

    def compact(self) -> 'PanopticStats':
        """Merge repeated sparse indices (keeps gathered results small).

        Returns:
            PanopticStats: Equal statistics with unique ``sem_index``.
        """
        if self.sem_index.size == 0:
            return self
        index, inverse = np.unique(self.sem_index, return_inverse=True)
        count = np.bincount(
            inverse, weights=self.sem_count.astype(np.float64))
        values = {
            f.name: getattr(self, f.name)
            for f in fields(self) if f.name != 'num_classes'
        }
        values['sem_index'] = index.astype(np.int64)
        values['sem_count'] = count.astype(np.int64)
        return PanopticStats(num_classes=self.num_classes, **values)

    @classmethod
    def sum(cls, items: Iterable['PanopticStats'],
            num_classes: int) -> 'PanopticStats':
        """Sum statistics.

        Args:
            items (Iterable[PanopticStats]): Statistics to add up.
            num_classes (int): Number of classes (used when empty).

        Returns:
            PanopticStats: The sum, with compacted semantic confusion.
        """
        total = cls.zeros(num_classes)
        dense = [f.name for f in fields(cls)
                 if f.name != 'num_classes' and f.name not in cls._SPARSE]
        sparse_index, sparse_count = [], []
        for item in items:
            if item.num_classes != num_classes:
                raise ValueError('cannot add statistics of '
                                 f'{item.num_classes} classes to '
                                 f'{num_classes}')
            for name in dense:
                np.add(getattr(total, name), getattr(item, name),
                       out=getattr(total, name))
            sparse_index.append(item.sem_index)
            sparse_count.append(item.sem_count)
        if sparse_index:
            total.sem_index = np.concatenate(sparse_index)
            total.sem_count = np.concatenate(sparse_count)
        return total.compact()
