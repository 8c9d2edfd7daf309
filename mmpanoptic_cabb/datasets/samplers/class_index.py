"""Class -> image -> instance index for class-uniform sampling (pure).

Built once from the ``segments_info`` of the data list (no image is read):

* ``classes``: the semantic classes present in the training set;
* per class, the images that contain it (CSR arrays);
* per (class, image) pair, the rows of the non-crowd thing instances of that
  class in the image (CSR arrays).

Instance rows follow mmdet's panoptic convention: row ``k`` of an image's
``gt_bboxes`` / ``gt_inst_map`` is its ``k``-th segment whose ``is_thing`` is
true and which is not crowd (mmdet's ``CocoPanopticDataset`` already turns
``is_thing`` off for crowd segments).
"""
from typing import Iterable, List, Tuple

import numpy as np


def is_instance_segment(segment: dict) -> bool:
    """Whether a ``segments_info`` entry is a (non-crowd) thing instance."""
    return bool(segment.get('is_thing')) and not segment.get('iscrowd', False)


class ClassIndex:
    """Class -> image -> instance lookup in compressed (CSR) arrays.

    Args:
        classes (np.ndarray): (C,) sorted class labels present.
        img_ptr (np.ndarray): (C + 1,) offsets of each class in ``img_ids``.
        img_ids (np.ndarray): (P,) image indices, one per (class, image).
        inst_ptr (np.ndarray): (P + 1,) offsets of each pair in ``inst_rows``.
        inst_rows (np.ndarray): instance rows of each (class, image) pair.
    """

    def __init__(self, classes: np.ndarray, img_ptr: np.ndarray,
                 img_ids: np.ndarray, inst_ptr: np.ndarray,
                 inst_rows: np.ndarray) -> None:
        self.classes = classes
        self.img_ptr = img_ptr
        self.img_ids = img_ids
        self.inst_ptr = inst_ptr
        self.inst_rows = inst_rows

    @classmethod
    def from_segments(
        cls,
        segments_per_image: Iterable[List[dict]],
        ignore_classes: Iterable[int] = ()
    ) -> 'ClassIndex':
        """Build the index.

        Args:
            segments_per_image (Iterable[list[dict]]): ``segments_info`` of
                each image, in dataset order (entries need ``category`` and
                ``is_thing``; ``iscrowd`` is optional).
            ignore_classes (Iterable[int]): Labels never drawn.

        Returns:
            ClassIndex: The index.
        """
        labels, images, rows = [], [], []
        for img_idx, segments in enumerate(segments_per_image):
            row = 0
            for seg in segments:
                labels.append(seg['category'])
                images.append(img_idx)
                if seg.get('is_thing') and not seg.get('iscrowd', False):
                    rows.append(row)
                    row += 1
                else:
                    rows.append(-1)
        labels = np.asarray(labels, dtype=np.int64)
        images = np.asarray(images, dtype=np.int64)
        rows = np.asarray(rows, dtype=np.int64)
        keep = ~np.isin(labels, np.asarray(list(ignore_classes), np.int64))
        labels, images, rows = labels[keep], images[keep], rows[keep]
        order = np.lexsort((rows, images, labels))
        labels, images, rows = labels[order], images[order], rows[order]
        # one entry per (class, image) pair
        new_pair = np.ones(labels.size, dtype=bool)
        new_pair[1:] = ((labels[1:] != labels[:-1]) |
                        (images[1:] != images[:-1]))
        pair_start = np.flatnonzero(new_pair)
        pair_labels = labels[pair_start]
        classes, class_start = np.unique(pair_labels, return_index=True)
        is_row = rows >= 0
        rows_before = np.concatenate([[0], np.cumsum(is_row)])
        inst_ptr = rows_before[np.append(pair_start, labels.size)]
        return cls(classes,
                   np.append(class_start, pair_start.size).astype(np.int64),
                   images[pair_start], inst_ptr.astype(np.int64), rows[is_row])

    @property
    def num_classes(self) -> int:
        """Number of classes present."""
        return int(self.classes.size)

    def images_of(self, label: int) -> np.ndarray:
        """Image indices containing class ``label``."""
        c = self._class_pos(label)
        return self.img_ids[self.img_ptr[c]:self.img_ptr[c + 1]]

    def instances_of(self, label: int, img_idx: int) -> np.ndarray:
        """Instance rows of class ``label`` in image ``img_idx``."""
        c = self._class_pos(label)
        lo, hi = self.img_ptr[c], self.img_ptr[c + 1]
        p = lo + int(np.searchsorted(self.img_ids[lo:hi], img_idx))
        if p >= hi or self.img_ids[p] != img_idx:
            return self.inst_rows[:0]
        return self.inst_rows[self.inst_ptr[p]:self.inst_ptr[p + 1]]

    def draw(self, rng: np.random.Generator) -> Tuple[int, int, int]:
        """Draw class, then image, then instance, each uniformly.

        Args:
            rng (np.random.Generator): Source of randomness.

        Returns:
            tuple[int, int, int]: ``(img_idx, label, instance_row)``; the row
            is -1 when the class has no thing instance in the image (stuff,
            or crowd only).
        """
        if self.num_classes == 0:
            raise RuntimeError('no class to sample from')
        c = int(rng.integers(self.num_classes))
        lo, hi = self.img_ptr[c], self.img_ptr[c + 1]
        p = lo + int(rng.integers(hi - lo))
        a, b = self.inst_ptr[p], self.inst_ptr[p + 1]
        row = int(self.inst_rows[a + int(rng.integers(b - a))]) if b > a \
            else -1
        return int(self.img_ids[p]), int(self.classes[c]), row

    def _class_pos(self, label: int) -> int:
        c = int(np.searchsorted(self.classes, label))
        if c >= self.classes.size or self.classes[c] != label:
            raise KeyError(f'class {label} is not present')
        return c
