"""Flip that also carries the instance id map and the truncation flags."""
import mmcv

from mmdet.datasets.transforms import RandomFlip
from mmdet.registry import TRANSFORMS
from .truncation import flip_truncation


@TRANSFORMS.register_module()
class PanopticRandomFlip(RandomFlip):
    """mmdet's ``RandomFlip`` that also flips ``gt_inst_map`` and permutes
    ``gt_truncated``.

    A horizontal flip swaps the left/right flags, a vertical flip the
    top/bottom flags, a diagonal flip both pairs (``FLIP_PERMUTATIONS`` of
    :mod:`mmpanoptic_cabb.structures.box_sides`).

    Required Keys:

    - img
    - gt_bboxes (BaseBoxes[torch.float32]) (optional)
    - gt_masks (BitmapMasks | PolygonMasks) (optional)
    - gt_seg_map (np.uint8) (optional)
    - gt_inst_map (np.int32) (optional)
    - gt_truncated (np.bool) (optional)

    Modified Keys:

    - img
    - gt_bboxes
    - gt_masks
    - gt_seg_map
    - gt_inst_map
    - gt_truncated

    Added Keys:

    - flip
    - flip_direction
    - homography_matrix

    Args:
        See mmdet's ``RandomFlip`` (``prob``, ``direction``).
    """

    def _flip(self, results: dict) -> None:
        """Flip everything mmdet flips, the id map and the flags."""
        super()._flip(results)
        direction = results['flip_direction']
        if results.get('gt_inst_map', None) is not None:
            results['gt_inst_map'] = mmcv.imflip(
                results['gt_inst_map'], direction=direction)
        if results.get('gt_truncated', None) is not None:
            results['gt_truncated'] = flip_truncation(results['gt_truncated'],
                                                      direction)
