"""Conversion of a split in Cityscapes' folder layout (Cityscapes, IDD).
Source layout::

    {root}/leftImg8bit/{split}/{folder}/{stem}_leftImg8bit.png
    {root}/gtFine/{split}/{folder}/{stem}{instance suffix}

with one label image of instance ids per image; each dataset brings how its
pixel values become segments (a :data:`~.panoptic_io.Classifier`) and how the
output files are named.
"""
import os.path as osp
from typing import Callable, Iterable, List, Tuple

from mmpanoptic_cabb.utils.progress import track
from .panoptic_io import (Classifier, PanopticSplitWriter, collect_files,
                          pair_files, panoptic_from_label_png, require_dir)

IMAGE_SUFFIX = '_leftImg8bit.png'

# output_names(key, image path) -> (image file name, panoptic PNG file name),
# with key the source path relative to the split folder, without its suffix
# (e.g. 'aachen/aachen_000000_000019').
OutputNames = Callable[[str, str], Tuple[str, str]]


def convert_gtfine_split(root: str,
                         out_dir: str,
                         split: str,
                         image_mode: str,
                         dataset: str,
                         instance_suffix: str,
                         classify: Classifier,
                         output_names: OutputNames,
                         description: str,
                         categories: List[dict],
                         image_suffixes: Iterable[str] = ()) -> str:
    """Convert one split in Cityscapes' layout to COCO panoptic.

    Args:
        root (str): Dataset root (holding ``leftImg8bit/`` and ``gtFine/``).
        out_dir (str): Output root.
        split (str): Split folder name.
        image_mode (str): ``'symlink'`` or ``'copy'`` the images.
        dataset (str): Dataset name, for messages.
        instance_suffix (str): Ending of the instance id images, e.g.
            ``'_gtFine_instanceIds.png'``.
        classify (Classifier): Segment of a pixel value.
        output_names (OutputNames): Output file names of a sample.
        description (str): ``info.description`` of the JSON.
        categories (list[dict]): COCO panoptic categories, things first.
        image_suffixes (Iterable[str]): Image endings accepted besides
            ``_leftImg8bit.png`` (other extensions).

    Returns:
        str: Path of the written JSON.

    Raises:
        DatasetConversionError: Missing folders, unpaired files, bad ids or
            sizes; nothing under ``out_dir`` is changed then.
    """
    img_dir = require_dir(
        osp.join(root, 'leftImg8bit', split), f'{dataset} {split} image')
    ann_dir = require_dir(
        osp.join(root, 'gtFine', split), f'{dataset} {split} annotation')
    pairs = pair_files(
        collect_files(img_dir, IMAGE_SUFFIX, suffixes=image_suffixes),
        collect_files(ann_dir, instance_suffix), f'{dataset} {split}')
    with PanopticSplitWriter(out_dir, split, image_mode) as writer:
        for key, img_path, ann_path in track(
                pairs, description=f'{dataset} {split}: {len(pairs)} images'):
            ids, segments_info = panoptic_from_label_png(
                img_path, ann_path, classify)
            img_name, png_name = output_names(key, img_path)
            writer.add_converted(img_path, img_name, png_name, ids,
                                 segments_info)
        return writer.commit_converted(description, categories)
