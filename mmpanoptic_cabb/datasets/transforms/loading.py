"""Memory-lean loading of COCO-style panoptic annotations."""
import os.path as osp
from typing import Optional

import mmcv
import numpy as np
from mmengine.fileio import get

from mmdet.datasets.transforms import LoadAnnotations
from mmdet.registry import TRANSFORMS
from mmpanoptic_cabb.structures.errors import PanopticFormatError
from mmpanoptic_cabb.structures.panoptic_png import (bgr2id,
                                                     decode_panoptic_png)
from ..samplers.class_index import is_instance_segment
from .inst_map_ops import (VOID_LABEL, panoptic_to_semantic_and_instances,
                           segment_id_mismatch)


@TRANSFORMS.register_module()
class LoadPanopticAnnotationsLean(LoadAnnotations):
    """Load panoptic annotations without full-resolution instance masks.

    Gives the same boxes, labels, ignore flags and semantic map as mmdet's
    ``LoadPanopticAnnotations``, but instead of ``N`` full-resolution masks
    it keeps one instance id map ``gt_inst_map`` (int32, ``k + 1`` at the
    pixels of instance ``k``). Resize, flip and crop it with the image (see
    :class:`PanopticResize`, :class:`PanopticRandomFlip`,
    :class:`TruncationAwareRandomCrop`) and build the masks afterwards with
    :class:`InstMapToMasks`, which then match mmdet's masks after the same
    transforms exactly.

    The panoptic PNG is decoded once and turned into both maps with lookup
    tables indexed by segment id, instead of one full-image comparison per
    segment.

    Semantic map convention (as mmdet's): the pixels of segment ``s`` get
    ``s['category']`` (things and stuff alike, crowd included), every other
    pixel gets 255 (void). Its dtype is uint8 when all labels fit (mmdet
    keeps the int32 of ``rgb2id``; the values are the same).

    Instance rows: row ``k`` of ``gt_bboxes`` (read from ``instances`` as in
    mmdet) is the ``k``-th segment of ``segments_info`` that is a thing and
    not crowd; the counts must agree.

    Required Keys:

    - height
    - width
    - instances
      - bbox
      - bbox_label
      - ignore_flag
    - segments_info
      - id
      - category
      - is_thing
      - iscrowd (optional)
    - seg_map_path

    Added Keys:

    - gt_bboxes (BaseBoxes[torch.float32])
    - gt_bboxes_labels (np.int64)
    - gt_ignore_flags (bool)
    - gt_seg_map (np.uint8 | np.int32)
    - gt_inst_map (np.int32)

    Args:
        with_bbox (bool): Load boxes and ignore flags. Defaults to True.
        with_label (bool): Load box labels. Defaults to True.
        with_seg (bool): Build ``gt_seg_map``. Defaults to True.
        with_inst_map (bool): Build ``gt_inst_map``. Defaults to True.
        box_type (str): Box type of ``gt_bboxes``. Defaults to 'hbox'.
        imdecode_backend (str): Decoding backend; 'cv2' takes the fast
            path (``decode_panoptic_png`` of ``structures.panoptic_png``:
            libspng when installed, else OpenCV), others go through
            ``mmcv.imfrombytes``. Defaults to 'cv2'.
        backend_args (dict, optional): File backend arguments.
        check_ids (bool): Check that the PNG's segment ids are those of
            ``segments_info`` (both ways) and raise a
            :class:`~mmpanoptic_cabb.structures.errors.PanopticFormatError`
            naming the PNG and the first offending id otherwise. Defaults to
            True.
    """

    def __init__(self,
                 with_bbox: bool = True,
                 with_label: bool = True,
                 with_seg: bool = True,
                 with_inst_map: bool = True,
                 box_type: str = 'hbox',
                 imdecode_backend: str = 'cv2',
                 backend_args: Optional[dict] = None,
                 check_ids: bool = True) -> None:
        super().__init__(
            with_bbox=with_bbox,
            with_label=with_label,
            with_mask=False,
            with_seg=with_seg,
            with_keypoints=False,
            box_type=box_type,
            imdecode_backend=imdecode_backend,
            backend_args=backend_args)
        self.with_inst_map = with_inst_map
        self.check_ids = check_ids

    def _read_panoptic_ids(self, path: str) -> np.ndarray:
        """Decode the panoptic PNG into a uint32 segment id map."""
        img_bytes = get(path, backend_args=self.backend_args)
        if self.imdecode_backend == 'cv2':
            return decode_panoptic_png(img_bytes, path)
        bgr = mmcv.imfrombytes(
            img_bytes,
            flag='color',
            channel_order='bgr',
            backend=self.imdecode_backend)
        if bgr is None:
            raise PanopticFormatError(
                f'panoptic PNG {path!r} cannot be decoded by the '
                f'{self.imdecode_backend!r} backend',
                image=osp.basename(path))
        return bgr2id(bgr)

    def _load_maps(self, results: dict) -> None:
        """Build ``gt_seg_map`` and ``gt_inst_map`` from the panoptic PNG."""
        if results.get('seg_map_path', None) is None:
            return
        segments = results.get('segments_info', [])
        instance_ids = [s['id'] for s in segments if is_instance_segment(s)]
        if self.with_bbox and len(instance_ids) != len(results['gt_bboxes']):
            raise ValueError(
                f'{results["seg_map_path"]}: {len(instance_ids)} thing '
                f'segments but {len(results["gt_bboxes"])} instances')
        labels = [int(s['category']) for s in segments]
        seg_dtype = np.uint8 if max(labels, default=0) < VOID_LABEL \
            else np.int32
        pan_ids = self._read_panoptic_ids(results['seg_map_path'])
        if self.check_ids:
            self._check_ids(pan_ids, segments, results['seg_map_path'])
        seg_map, inst_map = panoptic_to_semantic_and_instances(
            pan_ids, [s['id'] for s in segments], labels, instance_ids,
            seg_dtype)
        if self.with_seg:
            results['gt_seg_map'] = seg_map
        if self.with_inst_map:
            results['gt_inst_map'] = inst_map

    @staticmethod
    def _check_ids(pan_ids: np.ndarray, segments: list, path: str) -> None:
        """Raise if the PNG's segment ids differ from the JSON's."""
        unknown, missing = segment_id_mismatch(pan_ids,
                                               [s['id'] for s in segments])
        if unknown.size:
            raise PanopticFormatError(
                f'panoptic PNG {path!r}: segment id {int(unknown[0])} is in '
                f'the PNG but not in the JSON (ids not in the JSON: '
                f'{unknown[:10].tolist()})', image=osp.basename(path),
                segment_id=int(unknown[0]))
        if missing.size:
            raise PanopticFormatError(
                f'panoptic PNG {path!r}: segment id {int(missing[0])} is in '
                f'the JSON but not in the PNG (JSON ids without pixels: '
                f'{missing[:10].tolist()})', image=osp.basename(path),
                segment_id=int(missing[0]))

    def transform(self, results: dict) -> dict:
        """Load boxes, labels, the semantic map and the instance id map.

        Args:
            results (dict): Result dict with the keys listed above.

        Returns:
            dict: The updated result dict.
        """
        if self.with_bbox:
            self._load_bboxes(results)
        if self.with_label:
            self._load_labels(results)
        if self.with_seg or self.with_inst_map:
            self._load_maps(results)
        return results

    def __repr__(self) -> str:
        repr_str = self.__class__.__name__
        repr_str += f'(with_bbox={self.with_bbox}, '
        repr_str += f'with_label={self.with_label}, '
        repr_str += f'with_seg={self.with_seg}, '
        repr_str += f'with_inst_map={self.with_inst_map}, '
        repr_str += f'check_ids={self.check_ids}, '
        repr_str += f"imdecode_backend='{self.imdecode_backend}', "
        repr_str += f'backend_args={self.backend_args})'
        return repr_str
