"""COCO panoptic dataset with labels in METAINFO order, not JSON order."""
import copy
import os.path as osp
from typing import Dict, List, Tuple

from mmengine.fileio import get_local_path

from mmdet.datasets import CocoPanopticDataset
from mmdet.registry import DATASETS


@DATASETS.register_module()
class CocoPanopticBaseDataset(CocoPanopticDataset):
    """mmdet's ``CocoPanopticDataset`` with labels by name, checked categories.

    mmdet numbers categories in the order the annotation JSON lists them and
    expects labels ``0..num_things-1`` to be things, which breaks on JSONs that
    interleave stuff and things (the official Mapillary Vistas and Cityscapes
    ones). This class instead gives category ``c`` the label
    ``metainfo['classes'].index(c['name'])``, and checks at load time that

    - ``classes`` is ``thing_classes`` followed by ``stuff_classes``;
    - the JSON has exactly the categories of ``classes``, each with the
      ``isthing`` flag of its group.

    It also reads each image's panoptic PNG name from its JSON annotation
    (``file_name``) instead of deriving it from the image name, so images need
    not be ``.jpg`` files named like their PNGs (Cityscapes:
    ``*_leftImg8bit.png`` / ``*_gtFine_panoptic.png``), and takes each image's
    segments from the per-image index rather than by segment id, which stays
    fast when segment ids repeat across images (Cityscapes, IDD).

    The converters in :mod:`mmpanoptic_cabb.data_preparation.converters` also
    write categories things first, so their JSONs suit JSON-ordered consumers
    (mmdet's metrics) as well.

    Arguments are those of mmdet's ``CocoPanopticDataset``.
    """

    def _label_mapping(
            self, categories: List[dict]) -> Tuple[List[int], Dict[int, int]]:
        """Category ids in label order and the category id -> label map.

        Raises:
            ValueError: METAINFO is not things first, or the JSON categories
                do not match it (a class missing, an unknown category, a wrong
                ``isthing`` flag).
        """
        meta = self.metainfo
        classes = tuple(meta['classes'])
        things = tuple(meta.get('thing_classes', ()))
        stuff = tuple(meta.get('stuff_classes', ()))
        if classes != things + stuff:
            raise ValueError(
                f'{type(self).__name__}: metainfo classes must be '
                'thing_classes followed by stuff_classes (labels '
                '0..num_things-1 are things)')
        by_name = {}
        for cat in categories:
            name = cat['name']
            if name in by_name:
                raise ValueError(f'{self.ann_file}: category name {name!r} '
                                 'appears twice')
            if name not in classes:
                raise ValueError(
                    f'{self.ann_file}: category {name!r} (id {cat["id"]}) is '
                    f'not a class of {type(self).__name__}')
            if bool(cat.get('isthing')) != (name in things):
                raise ValueError(
                    f'{self.ann_file}: category {name!r} (id {cat["id"]}) has '
                    f'isthing={cat.get("isthing")}, but metainfo lists it as '
                    f'{"a thing" if name in things else "stuff"}')
            by_name[name] = cat['id']
        missing = [c for c in classes if c not in by_name]
        if missing:
            raise ValueError(f'{self.ann_file}: no category for class(es) '
                             f'{missing}')
        cat_ids = [by_name[c] for c in classes]
        return cat_ids, {cid: label for label, cid in enumerate(cat_ids)}

    def load_data_list(self) -> List[dict]:
        """Load the annotation JSON; labels follow ``metainfo['classes']``.

        Returns:
            list[dict]: One data info per image, as mmdet's
            ``CocoPanopticDataset``.
        """
        with get_local_path(
                self.ann_file, backend_args=self.backend_args) as local_path:
            self.coco = self.COCOAPI(local_path)
        self.cat_ids, self.cat2label = self._label_mapping(
            self.coco.dataset.get('categories', []))
        self.cat_img_map = copy.deepcopy(self.coco.cat_img_map)
        seg_files = {
            ann['image_id']: ann['file_name']
            for ann in self.coco.dataset.get('annotations', [])
        }
        data_list = []
        for img_id in self.coco.get_img_ids():
            raw_img_info = self.coco.load_imgs([img_id])[0]
            raw_img_info['img_id'] = img_id
            if img_id in seg_files:
                raw_img_info['segm_file'] = seg_files[img_id]
            # The image's own segments: segment ids repeat across images
            # (Cityscapes: 7 is road everywhere), so gathering them by id
            # (mmdet's way) would take time quadratic in the dataset size.
            raw_ann_info = self.coco.imgToAnns[img_id]
            data_list.append(
                self.parse_data_info(
                    dict(raw_ann_info=raw_ann_info,
                         raw_img_info=raw_img_info)))
        del self.coco
        return data_list

    def parse_data_info(self, raw_data_info: dict) -> dict:
        """Parse one image as mmdet does, the PNG path from the annotation.

        Args:
            raw_data_info (dict): ``raw_img_info`` and ``raw_ann_info``.

        Returns:
            dict: The parsed data info.
        """
        data_info = super().parse_data_info(raw_data_info)
        segm_file = raw_data_info['raw_img_info'].get('segm_file')
        if segm_file is not None and self.data_prefix.get('seg', None):
            data_info['seg_map_path'] = osp.join(self.data_prefix['seg'],
                                                 segm_file)
        return data_info
