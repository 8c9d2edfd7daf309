"""Flip that also carries the instance id map and the truncation flags."""
import mmcv
import numpy as np

from mmdet.datasets.transforms import RandomFlip
from mmdet.registry import TRANSFORMS
from mmdet.structures.bbox import autocast_box_type
from .lazy_resize import flip_pending, has_pending, pending_shape
from .truncation import flip_truncation


@TRANSFORMS.register_module()
class PanopticRandomFlip(RandomFlip):
    """mmdet's ``RandomFlip`` that also flips ``gt_inst_map`` and permutes
    ``gt_truncated``.

    A horizontal flip swaps the left/right flags, a vertical flip the
    top/bottom flags, a diagonal flip both pairs (``FLIP_PERMUTATIONS`` of
    :mod:`mmpanoptic_cabb.structures.box_sides`).

    After a deferred resize (``pending_resize``, see :mod:`.lazy_resize`)
    the resized frame is flipped: boxes and the homography in its
    coordinates, the flip recorded in ``pending_resize``; the source-size
    pixel arrays are left untouched (the crop resamples them flipped). The
    results equal those of the eager path after the crop.

    Required Keys:

    - img
    - gt_bboxes (BaseBoxes[torch.float32]) (optional)
    - gt_masks (BitmapMasks | PolygonMasks) (optional)
    - gt_seg_map (np.uint8) (optional)
    - gt_inst_map (np.int32) (optional)
    - gt_truncated (np.bool) (optional)
    - pending_resize (dict) (optional)

    Modified Keys:

    - img
    - gt_bboxes
    - gt_masks
    - gt_seg_map
    - gt_inst_map
    - gt_truncated
    - pending_resize (the flip is recorded, pixel arrays untouched)

    Added Keys:

    - flip
    - flip_direction
    - homography_matrix

    Args:
        See mmdet's ``RandomFlip`` (``prob``, ``direction``).
    """

    @autocast_box_type()
    def _flip(self, results: dict) -> None:
        """Flip everything mmdet flips, the id map and the flags."""
        direction = results['flip_direction']
        if has_pending(results):
            self._flip_frame(results)
        else:
            super()._flip(results)
            if results.get('gt_inst_map', None) is not None:
                results['gt_inst_map'] = mmcv.imflip(
                    results['gt_inst_map'], direction=direction)
        if results.get('gt_truncated', None) is not None:
            results['gt_truncated'] = flip_truncation(results['gt_truncated'],
                                                      direction)

    def _flip_frame(self, results: dict) -> None:
        """Flip the frame of a pending resize (boxes, homography, record)."""
        direction = results['flip_direction']
        h, w = pending_shape(results)
        if results.get('gt_bboxes', None) is not None:
            results['gt_bboxes'].flip_((h, w), direction)
        flip_pending(results, direction)
        x_sign, x_shift = (-1, w) if direction != 'vertical' else (1, 0)
        y_sign, y_shift = (-1, h) if direction != 'horizontal' else (1, 0)
        homography = np.array(
            [[x_sign, 0, x_shift], [0, y_sign, y_shift], [0, 0, 1]],
            dtype=np.float32)
        prev = results.get('homography_matrix', None)
        results['homography_matrix'] = homography if prev is None \
            else homography @ prev
