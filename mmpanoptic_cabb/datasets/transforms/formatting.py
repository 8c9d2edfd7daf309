"""Packing that carries the truncation flags into ``gt_instances``."""
from typing import Sequence

import numpy as np

from mmdet.datasets.transforms import PackDetInputs
from mmdet.registry import TRANSFORMS
from .lazy_resize import apply_pending_resize
from .truncation import empty_truncation

#: mmdet's default meta keys plus those of class-uniform sampling and ISUS.
META_KEYS = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
             'flip', 'flip_direction', 'sampled_class', 'sampled_instance',
             'isus_sigma', 'isus_level', 'sampled_gt_instance')


@TRANSFORMS.register_module()
class PackPanopticInputs(PackDetInputs):
    """mmdet's ``PackDetInputs`` that also packs ``gt_truncated``.

    ``gt_truncated`` becomes ``data_sample.gt_instances.truncated``
    (bool tensor (N, 4): left, top, right, bottom), split by
    ``gt_ignore_flags`` like every other instance field (ignored instances
    get ``ignored_instances.truncated``). Without a crop in the pipeline the
    key is absent and all-False flags are packed, so the truncation-aware
    sampler can always read them. A resize still pending
    (``ISUSResize(lazy=True)`` with nothing after it that carries it out) is
    carried out first.

    Required Keys:

    - img
    - gt_bboxes (optional)
    - gt_bboxes_labels (optional)
    - gt_masks (optional)
    - gt_ignore_flags (optional)
    - gt_seg_map (optional)
    - gt_truncated (optional)
    - sampled_instance (optional)
    - pending_resize (optional; carried out on the arrays and removed)

    Added Keys:

    - inputs
    - data_samples
    - sampled_gt_instance (int): with ``sampled_instance``, the row of the
      sampled instance in ``gt_instances`` (ignored instances are packed
      apart, which shifts the rows), -1 if it was dropped or is ignored.

    Args:
        meta_keys (Sequence[str]): Keys copied to the data sample's metainfo
            when present. Defaults to mmdet's plus the sampling keys
            ``sampled_class``, ``sampled_instance``, ``isus_sigma``,
            ``isus_level`` and ``sampled_gt_instance``.
    """
    mapping_table = {
        **PackDetInputs.mapping_table,
        'gt_truncated': 'truncated',
    }

    def __init__(self, meta_keys: Sequence[str] = META_KEYS) -> None:
        super().__init__(meta_keys=meta_keys)

    def transform(self, results: dict) -> dict:
        """Pack the results, filling missing truncation flags.

        Args:
            results (dict): Result dict from the pipeline.

        Returns:
            dict: ``inputs`` and ``data_samples``.
        """
        apply_pending_resize(results)
        boxes = results.get('gt_bboxes', None)
        if boxes is not None:
            truncated = results.get('gt_truncated', None)
            if truncated is None:
                results['gt_truncated'] = empty_truncation(len(boxes))
            elif len(truncated) != len(boxes):
                raise ValueError(
                    f'{len(truncated)} truncation flags for {len(boxes)} '
                    'boxes: a transform dropped instances without dropping '
                    'their `gt_truncated` rows (e.g. FilterAnnotations after '
                    'TruncationAwareRandomCrop)')
        if 'sampled_instance' in results:
            results['sampled_gt_instance'] = sampled_gt_row(
                results['sampled_instance'], boxes,
                results.get('gt_ignore_flags', None))
        return super().transform(results)


def sampled_gt_row(row: int, boxes, ignore_flags) -> int:
    """Row of the sampled instance among the packed ``gt_instances``.

    Args:
        row (int): ``sampled_instance``: its row in the result arrays, -1 for
            none.
        boxes: The result's ``gt_bboxes`` (None without boxes).
        ignore_flags (np.ndarray, optional): ``gt_ignore_flags``.

    Returns:
        int: The row among the non-ignored instances, -1 if there is none.
    """
    row = int(row)
    if boxes is None or not 0 <= row < len(boxes):
        return -1
    if ignore_flags is None:
        return row
    ignore = np.asarray(ignore_flags, dtype=bool)
    if ignore[row]:
        return -1
    return int((~ignore[:row]).sum())
