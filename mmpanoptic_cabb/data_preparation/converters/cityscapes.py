"""Cityscapes (``gtFine`` instance id images) to COCO panoptic.

Source layout (the official one)::

    {root}/leftImg8bit/{split}/{city}/{stem}_leftImg8bit.png
    {root}/gtFine/{split}/{city}/{stem}_gtFine_instanceIds.png

The conversion follows cityscapesscripts' ``createPanopticImgs`` with label ids
as category ids: a pixel value ``v >= 1000`` is instance ``v % 1000`` of label
``v // 1000``; a value ``v < 1000`` is label ``v`` as a whole, a crowd
("group") region when that label has instances. Labels not evaluated
(``ignoreInEval``, e.g. unlabeled, parking, caravan) become void. The segment
id is the pixel value itself, so segments and PNG ids equal those of
``createPanopticImgs``; images get integer ids ``1..N`` in sorted order.

Output (see :mod:`.panoptic_io`): ``images/{split}/{stem}_leftImg8bit.png`` and
``annotations/panoptic_{split}/{stem}_gtFine_panoptic.png``.
"""
from typing import Optional, Tuple

from mmpanoptic_cabb.datasets.categories import (CITYSCAPES_CATEGORIES,
                                                 CITYSCAPES_INSTANCE_LABEL_IDS,
                                                 CITYSCAPES_MAX_LABEL_ID,
                                                 coco_categories)
from .errors import BadIdError
from .gtfine_layout import IMAGE_SUFFIX, convert_gtfine_split

INSTANCE_SUFFIX = '_gtFine_instanceIds.png'
PANOPTIC_SUFFIX = '_gtFine_panoptic.png'

_EVALUATED = {c[0]: bool(c[2]) for c in CITYSCAPES_CATEGORIES}


def classify_cityscapes_id(value: int) -> Optional[Tuple[int, int, int]]:
    """Segment of one ``*_instanceIds.png`` value.

    Args:
        value (int): Pixel value.

    Returns:
        tuple | None: ``(segment id, category id, iscrowd)``, or None for void.

    Raises:
        BadIdError: The value is not a Cityscapes label id (0..33) nor an
            instance id of a label with instances (24..33).
    """
    if value >= 1000:
        label = value // 1000
        if label not in CITYSCAPES_INSTANCE_LABEL_IDS:
            raise BadIdError(f'instance id {value}: label id {label} has no '
                             'instances')
        iscrowd = 0
    else:
        label = value
        if not 0 <= label <= CITYSCAPES_MAX_LABEL_ID:
            raise BadIdError(f'id {value} is not a Cityscapes label id '
                             f'(0..{CITYSCAPES_MAX_LABEL_ID})')
        iscrowd = int(_EVALUATED.get(label, False))
    if label not in _EVALUATED:
        return None
    return value, label, iscrowd


def _output_names(key: str, img_path: str) -> Tuple[str, str]:
    """Output image and PNG names: the source stem (city folder dropped)."""
    stem = key.split('/')[-1]
    return stem + IMAGE_SUFFIX, stem + PANOPTIC_SUFFIX


def convert_cityscapes_split(root: str,
                             out_dir: str,
                             split: str = 'train',
                             image_mode: str = 'symlink') -> str:
    """Convert one Cityscapes split to COCO panoptic under ``out_dir``.

    Args:
        root (str): Cityscapes root (holding ``leftImg8bit/`` and ``gtFine/``).
        out_dir (str): Output root.
        split (str): ``train``, ``val`` or ``test``.
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
        dataset='Cityscapes',
        instance_suffix=INSTANCE_SUFFIX,
        classify=classify_cityscapes_id,
        output_names=_output_names,
        description=f'Cityscapes panoptic {split}',
        categories=coco_categories(CITYSCAPES_CATEGORIES))
