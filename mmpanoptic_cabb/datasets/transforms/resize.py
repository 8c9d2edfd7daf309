"""A resize that also carries the instance id map ``gt_inst_map``."""
from mmcv.image import imrescale, imresize

from mmdet.datasets.transforms import Resize
from mmdet.registry import TRANSFORMS
from .lazy_resize import apply_pending_resize


@TRANSFORMS.register_module()
class PanopticResize(Resize):
    """mmdet's ``Resize`` that also resizes ``gt_inst_map`` (nearest).

    Nearest-neighbour resizing of the id map equals resizing every instance
    mask separately (the pixel mapping depends on the sizes only), so masks
    built from the resized map match mmdet's resized masks. Truncation flags
    (``gt_truncated``) are unaffected by a resize and kept. A resize still
    pending (``ISUSResize(lazy=True)``) is carried out first.

    Required Keys:

    - img
    - gt_bboxes (BaseBoxes[torch.float32]) (optional)
    - gt_masks (BitmapMasks | PolygonMasks) (optional)
    - gt_seg_map (np.uint8) (optional)
    - gt_inst_map (np.int32) (optional)
    - pending_resize (dict) (optional; carried out first and removed)

    Modified Keys:

    - img
    - img_shape
    - gt_bboxes
    - gt_masks
    - gt_seg_map
    - gt_inst_map

    Added Keys:

    - scale
    - scale_factor
    - keep_ratio
    - homography_matrix

    Args:
        See mmdet's ``Resize``.
    """

    def transform(self, results: dict) -> dict:
        """Resize the results (after any pending resize).

        Args:
            results (dict): Result dict with the keys listed above.

        Returns:
            dict: The resized results.
        """
        return super().transform(apply_pending_resize(results))

    def _resize_seg(self, results: dict) -> None:
        """Resize ``gt_seg_map`` and ``gt_inst_map`` with nearest."""
        super()._resize_seg(results)
        inst_map = results.get('gt_inst_map', None)
        if inst_map is None:
            return
        if self.keep_ratio:
            inst_map = imrescale(
                inst_map,
                results['scale'],
                interpolation='nearest',
                backend=self.backend)
        else:
            inst_map = imresize(
                inst_map,
                results['scale'],
                interpolation='nearest',
                backend=self.backend)
        results['gt_inst_map'] = inst_map

