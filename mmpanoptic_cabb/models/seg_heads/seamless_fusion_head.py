"""Panoptic fusion in the style of Seamless Scene Segmentation (Fig. 4)."""
from typing import List, Optional, Tuple

import torch
from mmengine.structures import InstanceData, PixelData
from torch import Tensor

from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.models.seg_heads.panoptic_fusion_heads import BasePanopticFusionHead
from mmdet.registry import MODELS
from mmdet.utils import InstanceList, OptConfigType, OptMultiConfig, PixelList
from .full_res_ops import (DEFAULT_CHUNK_ELEMENTS, PastedMasks,
                           paste_instance_regions)

#: Formats of ``pred_instances.masks`` in the memory-bounded prediction.
INSTANCE_MASK_FORMATS = ('rle', 'bitmap')


def paste_instances(masks: Tensor, scores: Tensor, score_thr: float,
                    mask_overlap: float) -> Tuple[Tensor, Tensor]:
    """Paste instance masks by decreasing score, without overlaps.

    Instances scoring at most ``score_thr`` are skipped. The others are
    pasted highest score first; a pixel belongs to the first instance pasted
    on it. An instance that would lose more than ``mask_overlap`` of its mask
    to instances pasted before it (or has an empty mask) is dropped; the
    others keep the part of their mask that is still free.

    Args:
        masks (Tensor): Binary masks of shape (N, H, W).
        scores (Tensor): Scores of shape (N, ).
        score_thr (float): Minimum score (exclusive).
        mask_overlap (float): Largest fraction of a mask that may be lost to
            earlier instances.

    Returns:
        tuple[Tensor, Tensor]:

        - id_map (Tensor): (H, W) int64, ``k + 1`` at the pixels of the k-th
          pasted instance, 0 elsewhere.
        - kept (Tensor): (K, ) int64 indices (into ``masks``) of the pasted
          instances, in paste order: ``id_map == k + 1`` is ``kept[k]``.
    """
    id_map = torch.zeros(
        masks.shape[-2:], dtype=torch.long, device=masks.device)
    kept = []
    if masks.shape[0] == 0:
        return id_map, torch.zeros(0, dtype=torch.long, device=masks.device)
    masks = masks.bool()
    occupied = torch.zeros_like(id_map, dtype=torch.bool)
    order = torch.argsort(scores, descending=True, stable=True)
    for idx in order[scores[order] > score_thr].tolist():
        mask = masks[idx]
        area = mask.sum()
        if area == 0:
            continue
        free = mask & ~occupied
        lost = area - free.sum()
        if lost > mask_overlap * area:
            continue
        id_map[free] = len(kept) + 1
        occupied |= free
        kept.append(idx)
    return id_map, torch.tensor(kept, dtype=torch.long, device=masks.device)


@MODELS.register_module()
class SeamlessFusionHead(BasePanopticFusionHead):
    """Fuse instance and semantic predictions as Seamless Scene Segmentation.

    Rules, per image:

    1. Instances with score above ``test_cfg.score_thr`` are pasted by
       decreasing score; a pixel belongs to the first instance pasted; an
       instance losing more than ``test_cfg.mask_overlap`` of its mask to
       earlier ones is dropped (see :func:`paste_instances`).
    2. On the pixels left free, the semantic argmax over all ``T + S``
       classes decides: stuff pixels take their stuff class; pixels whose
       argmax is a thing class (thing evidence with no instance) become void.
    3. Stuff segments (one per stuff class) with fewer than
       ``test_cfg.stuff_area_limit`` free pixels become void.

    Output format as mmdet's ``HeuristicFusionHead``: ``PixelData`` whose
    ``sem_seg`` (1, H, W) int32 holds ``label + instance_id * INSTANCE_OFFSET``
    for things (ids from 1), ``label`` for stuff and ``T + S`` for void;
    labels follow mmdet's panoptic order (things ``0..T-1``, stuff
    ``T..T+S-1``).

    Two entry points apply these rules: :meth:`predict` on full-size
    logits and an (N, H, W) mask stack (mmdet's interface), and
    :meth:`fuse_regions` on the semantic argmax and masks pasted one at a
    time (:mod:`.full_res_ops`), which the segmentor uses when
    ``bounded_memory`` is on; both give the same map.

    Args:
        num_things_classes (int): Number of thing classes T.
        num_stuff_classes (int): Number of stuff classes S.
        test_cfg (dict, optional): The fusion rules: ``score_thr`` (default
            0.5), ``mask_overlap`` (default 0.5), ``stuff_area_limit``
            (pixels, default 4096). How the segmentor predicts at full
            resolution: ``bounded_memory`` (default True: semantic logits
            kept at the head's output stride and arg-maxed a few classes at
            a time, instance masks pasted one at a time; False: the
            full-size logits and mask stack of mmdet), ``max_working_pixels``
            (default None: cap on the pixels of the resolution the bounded
            fusion works at; above it the fusion runs at the largest shape
            of the same aspect within the cap, with ``stuff_area_limit``
            scaled by the area ratio, and its maps are upsampled (nearest)
            to the output size), ``instance_masks`` ('rle', default: the
            bounded prediction stores ``pred_instances.masks`` as COCO RLEs,
            which the metric reads; 'bitmap': the (N, H, W) bool stack, e.g.
            for visualisers), ``chunk_elements`` (default 2**25: floats of
            upsampled logits computed at a time).
        init_cfg (dict or list[dict], optional): Initialization config.
    """

    def __init__(self,
                 num_things_classes: int = 80,
                 num_stuff_classes: int = 53,
                 test_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = None,
                 **kwargs) -> None:
        super().__init__(
            num_things_classes=num_things_classes,
            num_stuff_classes=num_stuff_classes,
            test_cfg=test_cfg,
            loss_panoptic=None,
            init_cfg=init_cfg,
            **kwargs)
        test_cfg = test_cfg or {}
        self.score_thr = test_cfg.get('score_thr', 0.5)
        self.mask_overlap = test_cfg.get('mask_overlap', 0.5)
        self.stuff_area_limit = test_cfg.get('stuff_area_limit', 4096)
        self.bounded_memory = bool(test_cfg.get('bounded_memory', True))
        self.max_working_pixels = test_cfg.get('max_working_pixels', None)
        self.instance_masks = test_cfg.get('instance_masks', 'rle')
        self.chunk_elements = int(
            test_cfg.get('chunk_elements', DEFAULT_CHUNK_ELEMENTS))
        if self.instance_masks not in INSTANCE_MASK_FORMATS:
            raise ValueError(f'instance_masks must be one of '
                             f'{INSTANCE_MASK_FORMATS}, got '
                             f'{self.instance_masks!r}')
        if self.max_working_pixels is not None and \
                self.max_working_pixels < 1:
            raise ValueError(f'invalid max_working_pixels '
                             f'{self.max_working_pixels}')

    def loss(self, **kwargs) -> dict:
        """The fusion has no training loss."""
        return dict()

    def _predict_single(self, instances: InstanceData,
                        seg_logits: Tensor) -> PixelData:
        """Fuse the predictions of one image.

        Args:
            instances (:obj:`InstanceData`): ``scores``, ``labels`` (thing
                labels ``0..T-1``) and binary ``masks`` (N, H, W) of the RoI
                head at the size of ``seg_logits``.
            seg_logits (Tensor): Semantic logits (T + S, H, W).

        Returns:
            :obj:`PixelData`: ``sem_seg`` of shape (1, H, W), int32.
        """
        height, width = seg_logits.shape[-2:]
        masks: Optional[Tensor] = instances.get('masks', None)
        if masks is not None and len(instances) > 0:
            assert masks.shape[-2:] == (height, width), (
                f'instance masks {tuple(masks.shape[-2:])} and semantic '
                f'logits {(height, width)} must have the same size')
            id_map, kept = paste_instances(masks, instances.scores,
                                           self.score_thr, self.mask_overlap)
        else:
            id_map = seg_logits.new_zeros((height, width), dtype=torch.long)
            kept = id_map.new_zeros((0, ))
        kept_labels = instances.labels[kept] if len(kept) else kept
        return self._panoptic_map(id_map, kept_labels,
                                  seg_logits.argmax(dim=0),
                                  self.stuff_area_limit)

    def fuse_regions(
            self,
            masks: PastedMasks,
            scores: Tensor,
            labels: Tensor,
            sem_seg: Tensor,
            area_scale: float = 1.0,
            with_rles: bool = False) -> Tuple[PixelData, Optional[list]]:
        """Fuse one image from its semantic argmax and pasted masks.

        The rules of :meth:`predict`, with the instances pasted one at a
        time (:func:`paste_instance_regions`): given the argmax of the same
        logits and the same masks, the map equals that of :meth:`predict`.

        Args:
            masks (:obj:`PastedMasks`): Instance masks, in the frame of
                ``sem_seg``.
            scores (Tensor): (N, ) instance scores.
            labels (Tensor): (N, ) thing labels ``0..T-1``.
            sem_seg (Tensor): (H, W) argmax of the semantic logits over the
                ``T + S`` classes.
            area_scale (float): Factor on ``stuff_area_limit`` (the area
                ratio when working below the output resolution).
            with_rles (bool): Also return every instance's COCO RLE, from
                the same pastes.

        Returns:
            tuple: ``(PixelData(sem_seg=(1, H, W) int32), rles or None)``.
        """
        assert masks.out_shape == tuple(
            sem_seg.shape[-2:]), (masks.out_shape, tuple(sem_seg.shape))
        id_map, kept, rles = paste_instance_regions(masks, scores,
                                                    self.score_thr,
                                                    self.mask_overlap,
                                                    with_rles)
        pan = self._panoptic_map(id_map, labels[kept], sem_seg,
                                 self.stuff_area_limit * area_scale)
        return pan, rles

    def _panoptic_map(self, id_map: Tensor, kept_labels: Tensor,
                      sem_seg: Tensor, stuff_area_limit: float) -> PixelData:
        """Rules 2-3 on the map of the pasted instances (rule 1).

        Args:
            id_map (Tensor): (H, W) ``k + 1`` at the pixels of the k-th
                pasted instance, 0 on free pixels.
            kept_labels (Tensor): (K, ) labels of the pasted instances.
            sem_seg (Tensor): (H, W) semantic argmax.
            stuff_area_limit (float): Minimum free pixels of a stuff class.

        Returns:
            :obj:`PixelData`: ``sem_seg`` of shape (1, H, W), int32.
        """
        labels = kept_labels.long()
        instance_ids = torch.arange(1, len(labels) + 1, device=labels.device)
        segment_ids = torch.cat([
            labels.new_full((1, ), self.num_classes),
            labels + instance_ids * INSTANCE_OFFSET
        ])
        pan_seg = segment_ids[id_map]
        stuff = (id_map == 0) & (sem_seg >= self.num_things_classes)
        areas = torch.bincount(sem_seg[stuff], minlength=self.num_classes)
        stuff &= (areas >= stuff_area_limit)[sem_seg]
        pan_seg = torch.where(stuff, sem_seg, pan_seg)
        return PixelData(sem_seg=pan_seg[None].int())

    def predict(self, mask_results_list: InstanceList,
                seg_preds_list: List[Tensor], **kwargs) -> PixelList:
        """Fuse instance and semantic predictions of a batch.

        Args:
            mask_results_list (list[:obj:`InstanceData`]): Instance
                predictions of each image (``scores``, ``labels``, ``masks``).
            seg_preds_list (list[Tensor]): Semantic logits (T + S, H, W) of
                each image.

        Returns:
            list[:obj:`PixelData`]: Panoptic segmentation of each image.
        """
        return [
            self._predict_single(instances, seg_logits)
            for instances, seg_logits in zip(mask_results_list, seg_preds_list)
        ]
