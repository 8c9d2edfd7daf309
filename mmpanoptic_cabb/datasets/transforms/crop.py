"""Random crop that recomputes boxes from masks and records truncation."""
from typing import Optional, Tuple

import numpy as np
from mmcv.transforms.utils import cache_randomness

from mmdet.datasets.transforms import RandomCrop
from mmdet.registry import TRANSFORMS
from mmdet.structures.bbox import autocast_box_type
from mmdet.structures.mask import BitmapMasks
from .crop_window import sample_region_pixel, window_offset
from .inst_map_ops import boxes_from_inst_map, relabel_inst_map
from .lazy_resize import PendingFrame, crop_pending, has_pending
from .truncation import Box, outside_line, overshoot, truncated_sides

#: Per-instance keys filtered together with ``gt_bboxes``.
INSTANCE_KEYS = ('gt_bboxes_labels', 'gt_ignore_flags', 'gt_instances_ids',
                 'gt_truncated')


@TRANSFORMS.register_module()
class TruncationAwareRandomCrop(RandomCrop):
    """Random crop for panoptic training with a truncation record.

    1. Window: its size follows mmdet's ``RandomCrop`` (``crop_size``,
       ``crop_type``); an image smaller than the window is cropped to its
       own size along that side (no padding: the image border is not a crop
       edge; add mmdet's ``Pad`` afterwards for a fixed shape). With
       class-uniform sampling the window shows the draw (CUS step 4: "a
       random crop from an area of the image where the selected class is
       visible"): a pixel is drawn uniformly among the pixels of
       ``sampled_class`` in ``gt_seg_map`` and the window uniformly among
       the windows holding it. When ISUS rescaled a drawn instance
       (``isus_level >= 0``, ``sampled_instance >= 0``), the pixel is drawn
       among that instance's pixels instead, so the crop shows the instance
       at the scale ISUS chose for it. Without a draw the window is uniform
       over the image.
    2. Cropping: image, ``gt_seg_map``, ``gt_inst_map`` and ``gt_masks``.
       Boxes are recomputed from the cropped masks (``gt_masks`` if present,
       else ``gt_inst_map``; footnote 1): an instance cut into several pieces
       keeps one box around all of them. Instances with no pixel left are
       dropped together with their labels, ignore flags, ids and flags, and
       ``gt_inst_map`` is renumbered. Without masks or id map the boxes are
       clipped instead.
    3. Truncation (footnote 2): side ``s`` of instance ``i`` is flagged when
       the instance extends strictly past that crop edge before the crop
       and the recomputed box touches it. "Extends past" is read from the
       current ``gt_bboxes``, and from the instance's pixels just outside
       the edge when the box overshoots it by less than a pixel (fractional
       boxes after a resize; see :mod:`.truncation`). A box that only
       touches the edge is not truncated. Flags of earlier crops are OR-ed
       in, so crops compose (coordinates are always those of the latest
       crop).

    After a deferred resize (``pending_resize`` of ``ISUSResize(lazy=True)``,
    possibly flipped, see :mod:`.lazy_resize`) the window is drawn in the
    resized frame with the same random numbers, the region it must show is
    read through the resize taps without building the resized maps, and
    only the window of the image, ``gt_seg_map`` and ``gt_inst_map`` is
    resized: the results equal those of the eager resize, flip and crop
    (exactly, for the maps, boxes, flags and uint8 images).

    Required Keys:

    - img
    - gt_bboxes (BaseBoxes[torch.float32]) (optional)
    - gt_bboxes_labels (np.int64) (optional)
    - gt_masks (BitmapMasks | PolygonMasks) (optional)
    - gt_inst_map (np.int32) (optional)
    - gt_ignore_flags (bool) (optional)
    - gt_seg_map (np.uint8) (optional)
    - gt_truncated (np.bool) (optional)
    - sampled_class (int) (optional)
    - sampled_instance (int) (optional)
    - isus_level (int) (optional)
    - pending_resize (dict) (optional)

    Modified Keys:

    - img
    - img_shape
    - gt_bboxes
    - gt_bboxes_labels
    - gt_masks
    - gt_inst_map
    - gt_ignore_flags
    - gt_seg_map
    - gt_instances_ids
    - sampled_instance (new row of the instance, -1 if dropped)
    - pending_resize (carried out on the window and removed)

    Added Keys:

    - gt_truncated (np.bool (N, 4): left, top, right, bottom)
    - homography_matrix

    Args:
        crop_size (tuple): ``(width, height)``, see mmdet's ``RandomCrop``.
        crop_type (str): See mmdet's ``RandomCrop``. Defaults to 'absolute'.
        allow_negative_crop (bool): Keep crops without any instance (stuff
            only); if False such a crop returns None and the dataset
            refetches. Defaults to True.
        use_sampled_class (bool): Place the window on the sampled class
            (or the ISUS instance) when given. Defaults to True.
    """

    def __init__(self,
                 crop_size: tuple,
                 crop_type: str = 'absolute',
                 allow_negative_crop: bool = True,
                 use_sampled_class: bool = True) -> None:
        super().__init__(
            crop_size=crop_size,
            crop_type=crop_type,
            allow_negative_crop=allow_negative_crop,
            recompute_bbox=True,
            bbox_clip_border=True)
        self.use_sampled_class = use_sampled_class

    def _hint_region(self, results: dict,
                     frame: Optional[PendingFrame]) -> Optional[tuple]:
        """Region the window must show, or None.

        ``(mask, y0, x0, rows, cols)``: the region is ``mask`` (resampled
        by the taps ``rows``/``cols`` when a resize is pending, else as is)
        placed at ``(y0, x0)`` of the (resized) image.
        """
        row = int(results.get('sampled_instance', -1))
        boxes = results.get('gt_bboxes', None)
        isus_instance = int(results.get('isus_level', -1)) >= 0
        if isus_instance and row >= 0 and boxes is not None and \
                row < len(boxes):
            region = self._instance_region(results, row,
                                           boxes.numpy()[row], frame)
            if region is not None:
                return region
        label = int(results.get('sampled_class', -1))
        seg = results.get('gt_seg_map', None)
        if label >= 0 and seg is not None:
            if frame is not None:
                # emptiness is left to the draw: an empty region gives the
                # same window as no region
                return seg == label, 0, 0, frame.nearest(0), \
                    frame.nearest(1)
            region = seg == label
            if region.any():
                return region, 0, 0, None, None
        return None

    @staticmethod
    def _instance_region(results: dict, row: int, box: np.ndarray,
                         frame: Optional[PendingFrame]) -> Optional[tuple]:
        """Pixels of instance ``row`` inside its (1-pixel padded) box."""
        h, w = results['img'].shape[:2] if frame is None else frame.shape
        x0 = int(np.clip(np.floor(box[0]) - 1, 0, w))
        y0 = int(np.clip(np.floor(box[1]) - 1, 0, h))
        x1 = int(np.clip(np.ceil(box[2]) + 1, 0, w))
        y1 = int(np.clip(np.ceil(box[3]) + 1, 0, h))
        inst_map = results.get('gt_inst_map', None)
        if inst_map is not None and frame is not None:
            region = frame.view(inst_map)[y0:y1, x0:x1] == row + 1
        elif inst_map is not None:
            region = inst_map[y0:y1, x0:x1] == row + 1
        elif isinstance(results.get('gt_masks', None), BitmapMasks):
            region = results['gt_masks'].masks[row, y0:y1, x0:x1] > 0
        else:
            region = np.ones((y1 - y0, x1 - x0), dtype=bool)
        return (region, y0, x0, None, None) if region.any() else None

    @cache_randomness
    def _rand_window(self, img_hw: Tuple[int, int], crop_hw: Tuple[int, int],
                     region: Optional[Tuple]) -> Tuple[int, int]:
        """Draw the window's top-left corner ``(y1, x1)``."""
        u_pixel, u_y, u_x = np.random.random_sample(3)
        pixel = None
        if region is not None:
            mask, y0, x0, rows, cols = region
            picked = sample_region_pixel(mask, u_pixel, rows, cols)
            if picked is not None:
                pixel = (picked[0] + y0, picked[1] + x0)
        return window_offset(img_hw, crop_hw, u_y, u_x, pixel)

    @staticmethod
    def _beyond(before: np.ndarray, after: np.ndarray, crop_box: Box,
                inst_map: Optional[np.ndarray], masks) -> np.ndarray:
        """Whether each instance has pixels past each crop edge.

        Only touching sides whose box overshoots the edge by less than a
        pixel are looked up in the pixels (see :mod:`.truncation`).
        """
        over = overshoot(before, crop_box)
        beyond = over >= 1
        if inst_map is None and not isinstance(masks, BitmapMasks):
            return over > 0
        unsure = (over > 0) & (over < 1) & truncated_sides(
            before, after, crop_box, np.ones_like(beyond))
        for k, side in zip(*np.nonzero(unsure)):
            if inst_map is not None:
                rows, cols = outside_line(before[k], side, crop_box,
                                          inst_map.shape)
                beyond[k, side] = (inst_map[rows, cols] == k + 1).any()
            else:
                rows, cols = outside_line(before[k], side, crop_box,
                                          masks.masks.shape[1:])
                beyond[k, side] = masks.masks[k, rows, cols].any()
        return beyond

    def _crop_instances(self, results: dict, crop_box: Box,
                        full_inst_map: Optional[np.ndarray]) -> None:
        """Crop masks, recompute boxes, record truncation, drop empties."""
        boxes = results['gt_bboxes']
        before = boxes.numpy().astype(np.float64).reshape(-1, 4)
        num = before.shape[0]
        crop_w, crop_h = crop_box[2] - crop_box[0], crop_box[3] - crop_box[1]
        full_masks = results.get('gt_masks', None)
        inst_map = results.get('gt_inst_map', None)
        masks = None
        if full_masks is not None:
            masks = full_masks.crop(np.asarray(crop_box))
            after = masks.get_bboxes('hbox').numpy().reshape(-1, 4)
            keep = np.asarray(masks.areas) > 0
        elif inst_map is not None:
            after, keep = boxes_from_inst_map(inst_map, num)
        else:
            after = (before - np.array(crop_box[:2] * 2)).astype(np.float32)
            after[:, 0::2] = after[:, 0::2].clip(0, crop_w)
            after[:, 1::2] = after[:, 1::2].clip(0, crop_h)
            keep = (after[:, 2] > after[:, 0]) & (after[:, 3] > after[:, 1])
        beyond = self._beyond(before, after, crop_box, full_inst_map,
                              full_masks)
        truncated = truncated_sides(before, after, crop_box, beyond)
        old = results.get('gt_truncated', None)
        results['gt_truncated'] = truncated if old is None else \
            (np.asarray(old, dtype=bool) | truncated)

        results['gt_bboxes'] = type(boxes)(after[keep])
        for key in INSTANCE_KEYS:
            if results.get(key, None) is not None:
                results[key] = results[key][keep]
        if masks is not None:
            results['gt_masks'] = masks[np.flatnonzero(keep)]
        if inst_map is not None and not keep.all():
            results['gt_inst_map'] = relabel_inst_map(inst_map, keep)
        row = int(results.get('sampled_instance', -1))
        if 'sampled_instance' in results and row >= 0:
            results['sampled_instance'] = \
                int(keep[:row].sum()) if row < num and keep[row] else -1

    @autocast_box_type()
    def transform(self, results: dict) -> Optional[dict]:
        """Crop the results.

        Args:
            results (dict): Result dict with the keys listed above.

        Returns:
            dict | None: Cropped results; None when the crop holds no
            instance and ``allow_negative_crop`` is False.
        """
        frame = PendingFrame(results) if has_pending(results) else None
        img_hw = results['img'].shape[:2] if frame is None else frame.shape
        crop_hw = self._get_crop_size(img_hw)
        region = self._hint_region(results, frame) \
            if self.use_sampled_class else None
        y1, x1 = self._rand_window(img_hw, crop_hw, region)
        x2, y2 = x1 + crop_hw[1], y1 + crop_hw[0]

        homography = np.array([[1, 0, -x1], [0, 1, -y1], [0, 0, 1]],
                              dtype=np.float32)
        prev = results.get('homography_matrix', None)
        results['homography_matrix'] = homography if prev is None \
            else homography @ prev
        full_inst_map = results.get('gt_inst_map', None)
        if frame is not None:
            if full_inst_map is not None:
                full_inst_map = frame.view(full_inst_map)
            crop_pending(results, (y1, y2, x1, x2))
        else:
            results['img'] = results['img'][y1:y2, x1:x2, ...].copy()
            results['img_shape'] = results['img'].shape[:2]
            for key in ('gt_seg_map', 'gt_inst_map'):
                if results.get(key, None) is not None:
                    results[key] = results[key][y1:y2, x1:x2].copy()
        if results.get('gt_bboxes', None) is not None:
            self._crop_instances(results, (x1, y1, x2, y2), full_inst_map)
            if len(results['gt_bboxes']) == 0 and \
                    not self.allow_negative_crop:
                return None
        return results

    def __repr__(self) -> str:
        repr_str = self.__class__.__name__
        repr_str += f'(crop_size={self.crop_size}, '
        repr_str += f"crop_type='{self.crop_type}', "
        repr_str += f'allow_negative_crop={self.allow_negative_crop}, '
        repr_str += f'use_sampled_class={self.use_sampled_class})'
        return repr_str
