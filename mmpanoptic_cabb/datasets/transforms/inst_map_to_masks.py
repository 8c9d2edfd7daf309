"""Build instance masks from the (cropped) instance id map."""
from mmcv.transforms import BaseTransform

from mmdet.registry import TRANSFORMS
from mmdet.structures.mask import BitmapMasks
from .inst_map_ops import masks_from_inst_map
from .lazy_resize import apply_pending_resize


@TRANSFORMS.register_module()
class InstMapToMasks(BaseTransform):
    """Turn ``gt_inst_map`` into ``gt_masks`` (BitmapMasks).

    Place it after the crop, so that masks are only ever built at crop size.
    Mask ``k`` is ``gt_inst_map == k + 1`` and matches row ``k`` of
    ``gt_bboxes``. A resize still pending (``ISUSResize(lazy=True)`` with no
    crop after it) is carried out first, on the whole arrays.

    Required Keys:

    - gt_inst_map (np.int32)
    - gt_bboxes (BaseBoxes[torch.float32]) (optional, gives ``N``)

    Added Keys:

    - gt_masks (BitmapMasks)

    Modified Keys:

    - gt_inst_map (removed unless ``keep_inst_map``)
    - img, gt_seg_map, img_shape, pending_resize (only when a resize is
      pending)

    Args:
        keep_inst_map (bool): Keep ``gt_inst_map`` in the results. Defaults
            to False (it is no longer needed once the masks exist).
    """

    def __init__(self, keep_inst_map: bool = False) -> None:
        self.keep_inst_map = keep_inst_map

    def transform(self, results: dict) -> dict:
        """Build the masks.

        Args:
            results (dict): Result dict with ``gt_inst_map``.

        Returns:
            dict: The result dict with ``gt_masks``.
        """
        apply_pending_resize(results)
        inst_map = results.get('gt_inst_map', None)
        if inst_map is None:
            return results
        if results.get('gt_bboxes', None) is not None:
            num = len(results['gt_bboxes'])
        else:
            num = int(inst_map.max()) if inst_map.size else 0
        h, w = inst_map.shape
        results['gt_masks'] = BitmapMasks(
            masks_from_inst_map(inst_map, num), h, w)
        if not self.keep_inst_map:
            del results['gt_inst_map']
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}'
                f'(keep_inst_map={self.keep_inst_map})')
