"""IDD (Indian Driving Dataset, level-3 ids) to COCO panoptic.

Source layout::

    {root}/leftImg8bit/{split}/{seq}/{frame}_leftImg8bit.png   (or .jpg)
    {root}/gtFine/{split}/{seq}/{frame}_gtFine_instancelevel3Ids.png

The source is the level-3 instance id image, as in the IDD toolkit's panoptic
converter (``public-code/preperation/cityscape_panoptic_gt.py``, run by
``createLabels.py``). The toolkit makes these images from
``*_gtFine_polygons.json`` with::

    python preperation/createLabels.py --datadir $IDD --id-type level3Id \
        --instance True

Pixel values: ``v >= 1000`` is instance ``v % 1000`` of level-3 id
``v // 1000`` (a thing); ``v < 1000`` is level-3 id ``v`` as a whole (a crowd
region for thing ids), 255 is void. Level-3 id 0 is ``road``, so the segment
id is ``v + 1`` (0 stays void in the PNG). Unlike the toolkit, images keep
their full resolution (the toolkit resizes to 1280x720) and segment ids are
deterministic; categories and ``iscrowd`` follow the toolkit.

Output (see :mod:`.panoptic_io`)::

    images/{split}/{seq}_{frame}_leftImg8bit.png
    annotations/panoptic_{split}/{seq}_{frame}_gtFine_panoptic.png
"""
import os.path as osp
from typing import Optional, Tuple

from mmpanoptic_cabb.datasets.categories import (IDD_LEVEL3_CATEGORIES,
                                                 IDD_VOID_LEVEL3_ID,
                                                 coco_categories)
from .errors import BadIdError
from .gtfine_layout import IMAGE_SUFFIX, convert_gtfine_split

IMAGE_SUFFIXES_ALT = ('_leftImg8bit.jpg', '_leftImg8bit.jpeg')
INSTANCE_SUFFIX = '_gtFine_instancelevel3Ids.png'
PANOPTIC_SUFFIX = '_gtFine_panoptic.png'

_LEVEL3_ISTHING = {c[0]: bool(c[2]) for c in IDD_LEVEL3_CATEGORIES}


def classify_idd_id(value: int) -> Optional[Tuple[int, int, int]]:
    """Segment of one ``*_gtFine_instancelevel3Ids.png`` value.

    Args:
        value (int): Pixel value.

    Returns:
        tuple | None: ``(segment id, category id, iscrowd)``, or None for void
        (255).

    Raises:
        BadIdError: The value is neither a level-3 id (0..25, 255) nor an
            instance id of a thing level-3 id.
    """
    if value == IDD_VOID_LEVEL3_ID:
        return None
    if value >= 1000:
        level3 = value // 1000
        if not _LEVEL3_ISTHING.get(level3, False):
            raise BadIdError(f'instance id {value}: level-3 id {level3} '
                             'is not a thing class')
        return value + 1, level3, 0
    if value not in _LEVEL3_ISTHING:
        raise BadIdError(f'id {value} is not an IDD level-3 id (0..25, '
                         f'{IDD_VOID_LEVEL3_ID} void)')
    return value + 1, value, int(_LEVEL3_ISTHING[value])


def _output_names(key: str, img_path: str) -> Tuple[str, str]:
    """Output image and PNG names, prefixed with the sequence (frame numbers
    repeat across sequences); the image keeps its extension."""
    flat = key.replace('/', '_')
    img_ext = osp.splitext(img_path)[1]
    return (flat + IMAGE_SUFFIX[:-len('.png')] + img_ext,
            flat + PANOPTIC_SUFFIX)


def convert_idd_split(root: str,
                      out_dir: str,
                      split: str = 'train',
                      image_mode: str = 'symlink') -> str:
    """Convert one IDD split to COCO panoptic under ``out_dir``.

    Args:
        root (str): IDD root (holding ``leftImg8bit/`` and ``gtFine/``).
        out_dir (str): Output root.
        split (str): ``train`` or ``val``.
        image_mode (str): ``'symlink'`` or ``'copy'`` the images.

    Returns:
        str: Path of the written JSON.

    Raises:
        DatasetConversionError: Missing folders, unpaired files, bad ids or
            sizes; nothing under ``out_dir`` is changed then.
    """
    return convert_gtfine_split(
        root,
        out_dir,
        split,
        image_mode,
        dataset='IDD',
        instance_suffix=INSTANCE_SUFFIX,
        classify=classify_idd_id,
        output_names=_output_names,
        description=f'IDD panoptic (level 3) {split}',
        categories=coco_categories(IDD_LEVEL3_CATEGORIES),
        image_suffixes=IMAGE_SUFFIXES_ALT)
