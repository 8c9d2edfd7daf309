"""Scale augmentation of CUS / ISUS (steps 2-3 of Sec. 2.1)."""
from typing import Mapping, Optional, Tuple

import numpy as np
from mmcv.transforms.utils import cache_randomness

from mmdet.registry import TRANSFORMS
from mmdet.structures.bbox import autocast_box_type
from .isus_scale import (CENTER_POSITION, UNIFORM_POSITION_MARGIN, box_scale,
                         isus_scale_factor)
from .lazy_resize import apply_pending_resize, can_defer, set_pending
from .resize import PanopticResize


#: mmdet's ``SingleRoIExtractor`` level rule with its default arguments.
DEFAULT_LEVEL_RULE = dict(finest_scale=56, featmap_strides=(4, 8, 16, 32))


@TRANSFORMS.register_module()
class ISUSResize(PanopticResize):
    """Rescale to ``s0``, then scale by ``sigma`` (CUS or ISUS).

    1. ``s0`` rescale: the factor ``short_side / min(h, w)`` (1 when
       ``short_side`` is None).
    2. ``sigma``:

       - ISUS (``isus=True``) with a thing instance sampled
         (``sampled_instance >= 0``): draw a pyramid level ``l`` uniformly in
         ``[0, len(featmap_strides))`` and take ``sigma`` so that the
         instance's box, rescaled by step 1 and then by ``sigma``, is
         assigned to ``l`` by the model's level rule
         ``floor(log2(sqrt(wh) / finest_scale + 1e-6))`` (see
         :mod:`.isus_scale`; the box lands uniformly within the level's
         log-scale range, or in its middle, see ``level_position``);
         ``sigma`` is clamped to
         ``thing_range`` (``r_th``). If only ``sampled_class`` is given, the
         instance is drawn here among that class's non-ignored instances.
       - Otherwise (stuff class, no instance, no sampling, or
         ``isus=False``, i.e. plain CUS): ``sigma ~ U(stuff_range)``
         (``r_st``).

    The image is resized by ``factor = s0 factor * sigma`` (aspect kept,
    sizes rounded) with everything :class:`PanopticResize` resizes.

    With ``lazy=True`` the pixels are not resized here: the resize is
    recorded (``pending_resize``, see :mod:`.lazy_resize`) and everything
    cheap is done as in the eager path (``img_shape``, ``scale``,
    ``scale_factor``, boxes, homography); :class:`PanopticRandomFlip` flips
    the resized frame and :class:`TruncationAwareRandomCrop` resizes only its
    window, so the cost of a sample no longer grows with ``sigma**2``. The
    random draws, boxes, flags and the cropped maps are those of the eager
    path (``lazy=False``) exactly, the cropped uint8 image too (OpenCV's
    arithmetic is repeated, :mod:`.resample_window`). The resize stays eager
    when it cannot be deferred (other backends or interpolations, images
    neither uint8 nor float32, or ``gt_masks`` present). Until the crop, the
    pixel arrays keep the source size while ``img_shape`` and the boxes are
    in the resized frame: only the two transforms above (or
    :func:`.lazy_resize.apply_pending_resize`, which
    :class:`InstMapToMasks` and :class:`PackPanopticInputs` call) may follow.
    The level rule is that of the model's RoI extractor, given in one form:
    ``level_rule``, the extractor's config (configs pass
    ``model.roi_head.bbox_roi_extractor``); its ``finest_scale`` (mmdet's
    default 56 when absent) and ``featmap_strides`` are read, one level per
    stride, as in mmdet's ``SingleRoIExtractor.map_roi_levels``.

    Required Keys:

    - img
    - gt_bboxes (BaseBoxes[torch.float32]) (optional)
    - gt_bboxes_labels (np.int64) (optional)
    - gt_ignore_flags (bool) (optional)
    - gt_masks (BitmapMasks | PolygonMasks) (optional)
    - gt_seg_map (np.uint8) (optional)
    - gt_inst_map (np.int32) (optional)
    - sampled_class (int) (optional)
    - sampled_instance (int) (optional)

    Modified Keys:

    - img
    - img_shape
    - gt_bboxes
    - gt_masks
    - gt_seg_map
    - gt_inst_map
    - sampled_instance (set when drawn here)

    Modified Keys with ``lazy=True`` (deferred): img, gt_seg_map and
    gt_inst_map are left at source size; img_shape and gt_bboxes are in
    the resized frame.

    Added Keys:

    - scale
    - scale_factor
    - keep_ratio
    - homography_matrix
    - isus_sigma (float): the ``sigma`` used.
    - isus_level (int): the targeted level, -1 when ``sigma ~ U(r_st)``.
    - pending_resize (dict): only with ``lazy=True``, the deferred resize.

    Args:
        short_side (int, optional): ``s0``. Defaults to None (no rescale).
        stuff_range (tuple[float, float]): ``r_st``. Defaults to
            (0.8, 1.25).
        thing_range (tuple[float, float]): ``r_th``. Defaults to (0.25, 4).
        isus (bool): Instance-aware scaling; False gives plain CUS.
            Defaults to True.
        level_rule (dict, optional): The model's RoI extractor config, or
            any mapping with ``featmap_strides`` (one pyramid level per
            stride) and optionally ``finest_scale`` (default 56); other keys
            are ignored. Defaults to mmdet's extractor rule,
            ``dict(finest_scale=56, featmap_strides=(4, 8, 16, 32))``.
        level_position (str): Where in the target level's log2 scale range
            the instance lands: 'uniform' (uniform in it, 5% margins, so the
            level sees a continuum of sizes and, over all draws, the scale
            distribution is smoothed out, Sec. 2.1) or 'center' (the
            geometric middle: one fixed size per level). Defaults to
            'uniform'.
        lazy (bool): Defer the pixel resize to the crop (see above).
            Defaults to False; the crop pipelines of ``configs/`` set True.
        clip_object_border (bool): See mmdet's ``Resize``.
        backend (str): See mmdet's ``Resize``.
        interpolation (str): See mmdet's ``Resize``.
    """

    def __init__(self,
                 short_side: Optional[int] = None,
                 stuff_range: Tuple[float, float] = (0.8, 1.25),
                 thing_range: Tuple[float, float] = (0.25, 4.0),
                 isus: bool = True,
                 level_rule: Optional[Mapping] = None,
                 level_position: str = 'uniform',
                 lazy: bool = False,
                 clip_object_border: bool = True,
                 backend: str = 'cv2',
                 interpolation: str = 'bilinear') -> None:
        super().__init__(
            scale_factor=1.0,
            keep_ratio=False,
            clip_object_border=clip_object_border,
            backend=backend,
            interpolation=interpolation)
        for name, rng in (('stuff_range', stuff_range), ('thing_range',
                                                         thing_range)):
            if not 0 < rng[0] <= rng[1]:
                raise ValueError(f'invalid {name} {rng}')
        if level_position not in ('center', 'uniform'):
            raise ValueError(f'invalid level_position {level_position!r}')
        if short_side is not None and short_side <= 0:
            raise ValueError(f'invalid short_side {short_side}')
        if level_rule is None:
            level_rule = DEFAULT_LEVEL_RULE
        if not level_rule.get('featmap_strides'):
            raise ValueError('level_rule needs non-empty featmap_strides, got '
                             f'{dict(level_rule)}')
        finest_scale = float(level_rule.get('finest_scale', 56))
        if finest_scale <= 0:
            raise ValueError(f'invalid finest_scale {finest_scale}')
        self.short_side = short_side
        self.stuff_range = tuple(float(x) for x in stuff_range)
        self.thing_range = tuple(float(x) for x in thing_range)
        self.isus = isus
        self.finest_scale = finest_scale
        self.featmap_strides = tuple(
            int(s) for s in level_rule['featmap_strides'])
        self.level_position = level_position
        self.lazy = lazy

    @property
    def num_levels(self) -> int:
        """int: Pyramid levels of the level rule, ``len(featmap_strides)``."""
        return len(self.featmap_strides)

    @cache_randomness
    def _draw_instance(self, candidates: np.ndarray) -> int:
        """Draw an instance row among ``candidates`` (-1 if none)."""
        if candidates.size == 0:
            return -1
        return int(candidates[np.random.randint(candidates.size)])

    @cache_randomness
    def _draw_sigma(self,
                    instance_scale: Optional[float]) -> Tuple[float, int]:
        """Draw ``(sigma, level)``; level is -1 for the ``r_st`` branch."""
        if instance_scale is None:
            return float(np.random.uniform(*self.stuff_range)), -1
        level = int(np.random.randint(self.num_levels))
        if self.level_position == 'center':
            position = CENTER_POSITION
        else:
            position = float(
                np.random.uniform(UNIFORM_POSITION_MARGIN,
                                  1 - UNIFORM_POSITION_MARGIN))
        sigma = isus_scale_factor(instance_scale, level, self.finest_scale,
                                  self.num_levels, self.thing_range, position)
        return sigma, level

    def _instance_row(self, results: dict) -> int:
        """Row of the ISUS instance in the results (-1 for none)."""
        boxes = results.get('gt_bboxes', None)
        if boxes is None or len(boxes) == 0:
            return -1
        if 'sampled_instance' in results:
            row = int(results['sampled_instance'])
            return row if row < len(boxes) else -1
        label = int(results.get('sampled_class', -1))
        labels = results.get('gt_bboxes_labels', None)
        if label < 0 or labels is None:
            return -1
        valid = labels == label
        if results.get('gt_ignore_flags', None) is not None:
            valid &= ~results['gt_ignore_flags'].astype(bool)
        row = self._draw_instance(np.flatnonzero(valid))
        results['sampled_instance'] = row
        return row

    @autocast_box_type()
    def transform(self, results: dict) -> dict:
        """Resize by the ``s0`` factor times the drawn ``sigma``.

        Args:
            results (dict): Result dict with the keys listed above.

        Returns:
            dict: The resized results with ``isus_sigma``/``isus_level``.
        """
        apply_pending_resize(results)  # an earlier deferred resize
        h, w = results['img'].shape[:2]
        base = 1.0 if self.short_side is None else self.short_side / min(h, w)
        instance_scale = None
        if self.isus:
            row = self._instance_row(results)
            if row >= 0:
                scale = float(box_scale(results['gt_bboxes'].numpy()[row])[0])
                if scale > 0:
                    instance_scale = scale * base
        sigma, level = self._draw_sigma(instance_scale)
        factor = base * sigma
        results['scale'] = (max(1, int(w * factor + 0.5)),
                            max(1, int(h * factor + 0.5)))
        if self.lazy and can_defer(results, self.interpolation, self.backend):
            self._defer_resize(results)
        else:
            self._resize_img(results)
            self._resize_masks(results)
            self._resize_seg(results)
        self._resize_bboxes(results)
        self._record_homography_matrix(results)
        results['isus_sigma'] = sigma
        results['isus_level'] = level
        return results

    def _defer_resize(self, results: dict) -> None:
        """Set what ``_resize_img`` sets, without resizing the image."""
        h, w = results['img'].shape[:2]
        new_w, new_h = results['scale']
        # mmcv.imresize(return_scale=True) reports size / source size
        results['img_shape'] = (new_h, new_w)
        results['scale_factor'] = (new_w / w, new_h / h)
        results['keep_ratio'] = self.keep_ratio
        set_pending(results, results['scale'], self.interpolation)

    def __repr__(self) -> str:
        repr_str = self.__class__.__name__
        repr_str += f'(short_side={self.short_side}, '
        repr_str += f'stuff_range={self.stuff_range}, '
        repr_str += f'thing_range={self.thing_range}, '
        repr_str += f'isus={self.isus}, '
        repr_str += (f'level_rule=dict(finest_scale={self.finest_scale}, '
                     f'featmap_strides={self.featmap_strides}), ')
        repr_str += f"level_position='{self.level_position}', "
        repr_str += f'lazy={self.lazy}, '
        repr_str += f'clip_object_border={self.clip_object_border}, '
        repr_str += f"backend='{self.backend}', "
        repr_str += f"interpolation='{self.interpolation}')"
        return repr_str
