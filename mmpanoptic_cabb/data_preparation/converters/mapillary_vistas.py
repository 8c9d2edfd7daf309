"""Mapillary Vistas v1.2 panoptic: validate the annotations, lay them out.

Source layout (the v2.0 release's ``v1.2`` folders; the v1.1 release's
``panoptic/`` directly under the split folder is accepted too)::

    {root}/{training,validation}/images/{key}.jpg
    {root}/{training,validation}/v1.2/panoptic/panoptic_2018.json
    {root}/{training,validation}/v1.2/panoptic/{key}.png

Vistas ships COCO panoptic annotations already, so nothing is re-encoded: the
converter checks them (every category a v1.2 category with the right
``isthing``, one annotation per image, every PNG present and, unless
``check_pixels=False``, holding only ids of its ``segments_info`` at the image
size; no image or PNG left over), then writes a JSON with integer image ids
``1..N`` (JSON order) and the categories things first, and links (or copies)
images and PNGs under their original names (see :mod:`.panoptic_io`).
"""
import json
import os.path as osp
from typing import Dict

from mmpanoptic_cabb.datasets.categories import (
    MAPILLARY_VISTAS_V12_CATEGORIES, coco_categories)
from mmpanoptic_cabb.utils.progress import track
from .errors import (InvalidAnnotationError, MismatchedFilesError,
                     MissingInputError)
from .panoptic_io import (PanopticSplitWriter, collect_files, image_size,
                          require_dir, validate_panoptic_split)

SPLIT_FOLDERS: Dict[str, str] = dict(train='training', val='validation')
PANOPTIC_JSON = 'panoptic_2018.json'


def find_vistas_panoptic_dir(split_dir: str) -> str:
    """The folder of ``panoptic_2018.json`` and the PNGs of a Vistas split."""
    for sub in (osp.join('v1.2', 'panoptic'), 'panoptic'):
        candidate = osp.join(split_dir, sub)
        if osp.isfile(osp.join(candidate, PANOPTIC_JSON)):
            return candidate
    raise MissingInputError(
        f'Mapillary Vistas panoptic annotations not found: neither '
        f'{osp.join(split_dir, "v1.2", "panoptic", PANOPTIC_JSON)} nor '
        f'{osp.join(split_dir, "panoptic", PANOPTIC_JSON)} exists')


def load_json(path: str) -> dict:
    """Load a JSON file; decoding errors become InvalidAnnotationError."""
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except json.JSONDecodeError as err:
        raise InvalidAnnotationError(
            f'{path}: not valid JSON ({err})') from None


def convert_mapillary_vistas_split(root: str,
                                   out_dir: str,
                                   split: str = 'train',
                                   image_mode: str = 'symlink',
                                   check_pixels: bool = True) -> str:
    """Validate one Vistas v1.2 panoptic split and write it under ``out_dir``.

    Args:
        root (str): Vistas root (holding ``training/`` and ``validation/``).
        out_dir (str): Output root.
        split (str): ``train`` or ``val`` (``training``/``validation`` accepted
            too).
        image_mode (str): ``'symlink'`` or ``'copy'`` images and PNGs.
        check_pixels (bool): Decode every PNG to check its ids and size.

    Returns:
        str: Path of the written JSON.

    Raises:
        DatasetConversionError: Missing folders or files, unpaired files,
            unknown categories, bad ids or sizes; nothing under ``out_dir``
            is changed then.
    """
    folder = SPLIT_FOLDERS.get(split, split)
    out_split = {v: k for k, v in SPLIT_FOLDERS.items()}.get(folder, folder)
    split_dir = require_dir(
        osp.join(root, folder), f'Mapillary Vistas {folder}')
    img_dir = require_dir(
        osp.join(split_dir, 'images'), f'Mapillary Vistas {folder} image')
    pan_dir = find_vistas_panoptic_dir(split_dir)
    json_path = osp.join(pan_dir, PANOPTIC_JSON)
    coco = load_json(json_path)
    known = {c[0]: (c[1], int(c[2])) for c in MAPILLARY_VISTAS_V12_CATEGORIES}
    validate_panoptic_split(coco, json_path, pan_dir, known, check_pixels)

    on_disk = collect_files(img_dir, '.jpg', nested=False)
    listed = {osp.splitext(img['file_name'])[0]: img for img in coco['images']}
    no_ann = sorted(set(on_disk) - set(listed))
    if no_ann:
        raise MismatchedFilesError(
            f'{img_dir}: {len(no_ann)} image(s) without annotation in '
            f'{json_path}, e.g. {on_disk[no_ann[0]]}')
    anns = {ann['image_id']: ann for ann in coco['annotations']}
    images, annotations = [], []
    with PanopticSplitWriter(out_dir, out_split, image_mode) as writer:
        for new_id, img in enumerate(
                track(coco['images'], description=f'Mapillary Vistas '
                      f'{out_split}: {len(coco["images"])} images'),
                start=1):
            img_path = osp.join(img_dir, img['file_name'])
            if not osp.isfile(img_path):
                raise MismatchedFilesError(
                    f'{json_path}: image {img["file_name"]} '
                    f'(id {img["id"]!r}) '
                    f'has an annotation but no file {img_path}')
            size = image_size(img_path)
            if size != (img['height'], img['width']):
                raise InvalidAnnotationError(
                    f'{img_path}: size {size[0]}x{size[1]} differs from '
                    f'{img["height"]}x{img["width"]} in {json_path}')
            ann = anns[img['id']]
            writer.add_image(img_path, img['file_name'])
            writer.add_png(
                osp.join(pan_dir, ann['file_name']), ann['file_name'])
            images.append(
                dict(
                    id=new_id,
                    file_name=img['file_name'],
                    height=img['height'],
                    width=img['width']))
            annotations.append(
                dict(
                    image_id=new_id,
                    file_name=ann['file_name'],
                    segments_info=[
                        dict(
                            id=s['id'],
                            category_id=s['category_id'],
                            area=s['area'],
                            bbox=s['bbox'],
                            iscrowd=s.get('iscrowd', 0))
                        for s in ann['segments_info']
                    ]))
        return writer.commit(
            dict(
                info=dict(description=f'Mapillary Vistas v1.2 panoptic '
                          f'{folder}'),
                images=images,
                annotations=annotations,
                categories=coco_categories(MAPILLARY_VISTAS_V12_CATEGORIES)))
