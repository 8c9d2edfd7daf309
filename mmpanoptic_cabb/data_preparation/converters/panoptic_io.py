"""Shared converter helpers: ids, segments, pairing, validation, output.

Every converter writes the same layout, the one the dataset classes and the
``_base_`` dataset configs read::

    {out}/images/{split}/<image file_name>              image links or copies
    {out}/annotations/panoptic_{split}/<png file_name>  segment ids, see below
    {out}/annotations/panoptic_{split}.json             COCO panoptic JSON

PNGs hold ``id = R + 256 G + 256^2 B`` and are read and written with
:mod:`mmpanoptic_cabb.structures.panoptic_png`. Image ids are integers ``1..N``
in sorted file order; categories are listed things first. A split is staged in
a hidden folder under ``{out}`` and published by renames only when it is
complete, so an error leaves whatever was already written under ``{out}``
untouched.
"""
import glob
import json
import os
import os.path as osp
import shutil
import tempfile
from typing import Callable, Dict, Iterable, List, Optional, Tuple

import cv2
import numpy as np
from PIL import Image

from mmpanoptic_cabb.structures.errors import PanopticFormatError
from mmpanoptic_cabb.structures.panoptic_png import (read_panoptic_png,
                                                     write_panoptic_png)
from mmpanoptic_cabb.structures.panoptic_segments import segment_stats
from .errors import (BadIdError, InvalidAnnotationError, MismatchedFilesError,
                     MissingInputError)

IMAGE_MODES = ('symlink', 'copy')
# classify(value) -> None for void, else (segment id, category id, iscrowd);
# raises BadIdError (message without the file name) for values the dataset does
# not define.
Classifier = Callable[[int], Optional[Tuple[int, int, int]]]


def split_paths(out_dir: str, split: str) -> Dict[str, str]:
    """Output paths of a split: ``images``, ``pngs`` (folders), ``json``."""
    return dict(
        images=osp.join(out_dir, 'images', split),
        pngs=osp.join(out_dir, 'annotations', f'panoptic_{split}'),
        json=osp.join(out_dir, 'annotations', f'panoptic_{split}.json'))


def require_dir(path: str, what: str) -> str:
    """Return ``path`` if it is a folder, else raise MissingInputError."""
    if not osp.isdir(path):
        raise MissingInputError(f'{what} folder not found: {path}')
    return path


def collect_files(
    folder: str,
    suffix: str,
    nested: bool = True,
    suffixes: Iterable[str] = ()) -> Dict[str, str]:
    """Files of ``folder`` (or its subfolders) ending in ``suffix``.

    Args:
        folder (str): Folder to search.
        suffix (str): File name ending, e.g. ``'_gtFine_instanceIds.png'``.
        nested (bool): Search ``folder/*/`` (Cityscapes cities, IDD sequences)
            instead of ``folder/``.
        suffixes (Iterable[str]): Alternative endings (e.g. other image
            extensions).

    Returns:
        dict: Key (relative path without the ending, e.g.
        ``'aachen/aachen_000000_000019'``) -> path.
    """
    found = {}
    for end in (suffix, *suffixes):
        pattern = osp.join(folder, '*', '*' +
                           end) if nested else osp.join(folder, '*' + end)
        for path in sorted(glob.glob(pattern)):
            key = osp.relpath(path, folder)[:-len(end)].replace(os.sep, '/')
            found.setdefault(key, path)
    return found


def pair_files(images: Dict[str, str], annotations: Dict[str, str],
               where: str) -> List[Tuple[str, str, str]]:
    """Pair images and annotations by key; every one must have its partner.

    Args:
        images (dict): Key -> image path.
        annotations (dict): Key -> annotation path.
        where (str): What is paired, for messages (e.g. ``'Cityscapes
            train'``).

    Returns:
        list[tuple]: ``(key, image path, annotation path)`` sorted by key.

    Raises:
        MissingInputError: Neither images nor annotations were found.
        MismatchedFilesError: An image has no annotation or an annotation
            no image.
    """
    if not images and not annotations:
        raise MissingInputError(f'{where}: no images and no annotations found')
    no_ann = sorted(set(images) - set(annotations))
    no_img = sorted(set(annotations) - set(images))
    problems = []
    if no_ann:
        problems.append(f'{len(no_ann)} image(s) without annotation: ' +
                        ', '.join(images[k] for k in no_ann[:3]))
    if no_img:
        problems.append(f'{len(no_img)} annotation(s) without image: ' +
                        ', '.join(annotations[k] for k in no_img[:3]))
    if problems:
        raise MismatchedFilesError(f'{where}: ' + '; '.join(problems))
    return [(k, images[k], annotations[k]) for k in sorted(images)]


def image_size(path: str) -> Tuple[int, int]:
    """``(height, width)`` of an image, read from its header."""
    try:
        with Image.open(path) as img:
            width, height = img.size
    except (OSError, ValueError) as err:
        raise InvalidAnnotationError(f'{path}: cannot read the image ({err})')
    return height, width


def read_label_png(path: str) -> np.ndarray:
    """Read a single-channel 8/16-bit id image (``*_instanceIds.png``)."""
    if not osp.isfile(path):
        raise MissingInputError(f'id image not found: {path}')
    arr = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if arr is None:
        raise InvalidAnnotationError(f'{path}: cannot be decoded as an image')
    if arr.ndim != 2:
        raise InvalidAnnotationError(
            f'{path}: expected a single-channel id image, got shape '
            f'{arr.shape}')
    return arr.astype(np.int32)


def panoptic_from_source_ids(src: np.ndarray, classify: Classifier,
                             where: str) -> Tuple[np.ndarray, List[Dict]]:
    """Turn a source id map into panoptic ids and ``segments_info``.

    Args:
        src (np.ndarray): (H, W) integer map; each distinct value is one
            segment or void.
        classify (Callable): See :data:`Classifier`.
        where (str): The source file, for error messages.

    Returns:
        tuple: (H, W) int32 segment ids (0 = void) and the ``segments_info``
        list (``id``, ``category_id``, ``area``, ``bbox`` as ``[x, y, w, h]``
        in pixels, ``iscrowd``) in increasing source value order.
    """
    values, inverse = np.unique(src, return_inverse=True)
    seg_ids = np.zeros(len(values), np.int32)  # per distinct value; 0 = void
    # per distinct value: segment index 1..K, 0 = void
    index = np.zeros(len(values), np.int32)
    kept = []
    for i, value in enumerate(values.tolist()):
        try:
            seg = classify(int(value))
        except BadIdError as err:
            raise BadIdError(f'{where}: {err}') from None
        if seg is None:
            continue
        kept.append(seg)
        seg_ids[i] = seg[0]
        index[i] = len(kept)
    ids = [s[0] for s in kept]
    if len(set(ids)) != len(ids) or 0 in ids:
        raise InvalidAnnotationError(
            f'{where}: segment ids are not unique and positive: {ids}')
    inverse = inverse.reshape(src.shape)
    areas, boxes = segment_stats(index[inverse], len(kept))
    segments_info = [
        dict(
            id=int(seg_id),
            category_id=int(cat),
            area=int(areas[k]),
            bbox=boxes[k - 1],
            iscrowd=int(crowd))
        for k, (seg_id, cat, crowd) in enumerate(kept, start=1)
    ]
    return seg_ids[inverse], segments_info


def panoptic_from_label_png(img_path: str, ann_path: str,
                            classify: Classifier) -> Tuple[np.ndarray, list]:
    """Read a label/instance-id PNG, check it against its image, convert it.

    Args:
        img_path (str): The image the annotation belongs to.
        ann_path (str): The label PNG (one source id per pixel).
        classify (Classifier): Source id -> segment (see ``Classifier``).

    Returns:
        tuple: Segment-id map and ``segments_info`` (see
        :func:`panoptic_from_source_ids`).

    Raises:
        InvalidAnnotationError: If the PNG and the image differ in size.
    """
    src = read_label_png(ann_path)
    height, width = image_size(img_path)
    if src.shape != (height, width):
        raise InvalidAnnotationError(
            f'{ann_path}: size {src.shape[0]}x{src.shape[1]} differs '
            f'from its image {img_path} ({height}x{width})')
    return panoptic_from_source_ids(src, classify, ann_path)


def _require_fields(entry: dict, fields: Tuple[str, ...], where: str) -> None:
    if not isinstance(entry, dict):
        raise InvalidAnnotationError(
            f'{where}: expected an object, got {entry!r}')
    missing = [f for f in fields if f not in entry]
    if missing:
        raise InvalidAnnotationError(f'{where}: missing field(s) {missing}')


def validate_panoptic_split(coco: dict,
                            json_path: str,
                            png_dir: str,
                            known_categories: Dict[int, Tuple[str, int]],
                            check_pixels: bool = True) -> None:
    """Check a COCO panoptic split against its PNGs and a category table.

    Checks: the top-level fields; every category known (same name and
    ``isthing``); image and annotation ids unique and one annotation per image;
    every segment's id unique and positive and its ``category_id`` among the
    categories; every annotation PNG present and no PNG in ``png_dir`` without
    annotation; with ``check_pixels``, each PNG has the image's size and only
    ids of its ``segments_info`` (or 0, void).

    Args:
        coco (dict): The loaded JSON.
        json_path (str): Its path, for messages.
        png_dir (str): Folder of the annotation PNGs.
        known_categories (dict): Category id -> ``(name, isthing)`` of the
            dataset.
        check_pixels (bool): Decode every PNG (slow on large datasets).

    Raises:
        DatasetConversionError: The first problem found (a subclass naming
            the file, and the id or field).
    """
    for field in ('images', 'annotations', 'categories'):
        if not isinstance(coco.get(field), list):
            raise InvalidAnnotationError(
                f'{json_path}: missing or malformed field "{field}"')
    cat_ids = set()
    for i, cat in enumerate(coco['categories']):
        _require_fields(cat, ('id', 'name', 'isthing'),
                        f'{json_path}: categories[{i}]')
        cid = cat['id']
        known = known_categories.get(cid)
        if known is None:
            raise BadIdError(f'{json_path}: category id {cid} '
                             f'({cat.get("name")!r}) is not a known category')
        if (cat.get('name'), int(bool(cat.get('isthing')))) != known:
            raise BadIdError(
                f'{json_path}: category id {cid} is {cat.get("name")!r} with '
                f'isthing={cat.get("isthing")}, expected {known[0]!r} with '
                f'isthing={known[1]}')
        cat_ids.add(cid)
    images = {}
    for i, img in enumerate(coco['images']):
        _require_fields(img, ('id', 'file_name', 'height', 'width'),
                        f'{json_path}: images[{i}]')
        if img['id'] in images:
            raise InvalidAnnotationError(
                f'{json_path}: duplicate image id {img.get("id")}')
        images[img.get('id')] = img
    anns = {}
    for i, ann in enumerate(coco['annotations']):
        _require_fields(ann, ('image_id', 'file_name', 'segments_info'),
                        f'{json_path}: annotations[{i}]')
        img_id = ann['image_id']
        if img_id not in images:
            raise MismatchedFilesError(
                f'{json_path}: annotation {ann.get("file_name")} refers to '
                f'image_id {img_id!r}, which has no image entry')
        if img_id in anns:
            raise InvalidAnnotationError(
                f'{json_path}: image_id {img_id!r} has two annotations')
        anns[img_id] = ann
    for img_id, img in images.items():
        if img_id not in anns:
            raise MismatchedFilesError(
                f'{json_path}: image {img.get("file_name")} (id {img_id!r}) '
                'has no annotation')
    referenced = set()
    for img_id, ann in anns.items():
        png = osp.join(png_dir, ann['file_name'])
        referenced.add(osp.normpath(png))
        if not osp.isfile(png):
            raise MissingInputError(
                f'{json_path}: panoptic PNG of image_id {img_id!r} not found: '
                f'{png}')
        seg_ids = set()
        for seg in ann['segments_info']:
            _require_fields(seg, ('id', 'category_id', 'area', 'bbox'),
                            f'{json_path}: image_id {img_id!r} segment')
            sid = seg['id']
            if not isinstance(sid, int) or sid <= 0 or sid in seg_ids:
                raise BadIdError(
                    f'{json_path}: image_id {img_id!r}: segment id {sid!r} '
                    'is not a new positive integer')
            if seg.get('category_id') not in cat_ids:
                raise BadIdError(
                    f'{json_path}: image_id {img_id!r} segment {sid}: '
                    f'category_id {seg.get("category_id")!r} is not in '
                    'categories')
            seg_ids.add(sid)
        if check_pixels:
            try:
                ids = read_panoptic_png(png)
            except PanopticFormatError as err:
                raise InvalidAnnotationError(str(err)) from None
            img = images[img_id]
            if ids.shape != (img.get('height'), img.get('width')):
                raise InvalidAnnotationError(
                    f'{png}: size {ids.shape[0]}x{ids.shape[1]} differs from '
                    f'the image size {img.get("height")}x{img.get("width")} '
                    f'in {json_path}')
            extra = sorted(set(np.unique(ids).tolist()) - seg_ids - {0})
            if extra:
                raise BadIdError(
                    f'{png}: segment id(s) {extra[:5]} are not in the '
                    f'segments_info of {json_path}')
    unreferenced = sorted(
        p for p in glob.glob(osp.join(png_dir, '*.png'))
        if osp.normpath(p) not in referenced)
    if unreferenced:
        raise MismatchedFilesError(
            f'{png_dir}: {len(unreferenced)} PNG(s) without annotation in '
            f'{json_path}, e.g. {unreferenced[0]}')


class PanopticSplitWriter:
    """Stage one split's output and publish it all at once.

    Use as a context manager; :meth:`commit` publishes, leaving the ``with``
    block any other way (an exception) discards the staged files and keeps the
    previous output.

    Args:
        out_dir (str): Output root.
        split (str): Split name (``train``, ``val``, ...).
        image_mode (str): ``'symlink'`` (absolute links to the source images)
            or ``'copy'``.
    """

    def __init__(self,
                 out_dir: str,
                 split: str,
                 image_mode: str = 'symlink') -> None:
        if image_mode not in IMAGE_MODES:
            raise ValueError(f'image_mode must be one of {IMAGE_MODES}, got '
                             f'{image_mode!r}')
        self.image_mode = image_mode
        self.paths = split_paths(out_dir, split)
        for folder in ('images', 'annotations'):
            os.makedirs(osp.join(out_dir, folder), exist_ok=True)
        self._stage = tempfile.mkdtemp(
            prefix=f'.staging_{split}_', dir=out_dir)
        self.image_dir = osp.join(self._stage, 'images')
        self.png_dir = osp.join(self._stage, 'pngs')
        os.makedirs(self.image_dir)
        os.makedirs(self.png_dir)
        self.images: List[dict] = []
        self.annotations: List[dict] = []

    def __enter__(self) -> 'PanopticSplitWriter':
        return self

    def __exit__(self, *exc_info) -> bool:
        if osp.isdir(self._stage):
            shutil.rmtree(self._stage, ignore_errors=True)
        return False

    def _place(self, src: str, dst: str) -> None:
        if self.image_mode == 'symlink':
            os.symlink(osp.abspath(src), dst)
        else:
            shutil.copy2(src, dst)

    def add_image(self, src: str, file_name: str) -> None:
        """Link or copy image ``src`` to ``images/{split}/{file_name}``."""
        self._place(src, osp.join(self.image_dir, file_name))

    def add_png(self, src: str, file_name: str) -> None:
        """Link or copy an existing panoptic PNG into the PNG folder."""
        self._place(src, osp.join(self.png_dir, file_name))

    def write_png(self, file_name: str, ids: np.ndarray) -> None:
        """Write segment ids as the split's panoptic PNG ``file_name``."""
        write_panoptic_png(
            osp.join(self.png_dir, file_name), ids, compression=1)

    def add_converted(self, img_src: str, img_name: str, png_name: str,
                      ids: np.ndarray, segments_info: List[dict]) -> None:
        """Stage one converted sample and record its image and annotation.

        Args:
            img_src (str): Source image, linked or copied as ``img_name``.
            img_name (str): Output image file name.
            png_name (str): Output panoptic PNG file name.
            ids (np.ndarray): Segment-id map (H, W) written as the PNG.
            segments_info (list[dict]): The sample's ``segments_info``.
        """
        self.add_image(img_src, img_name)
        self.write_png(png_name, ids)
        img_id = len(self.images) + 1
        height, width = ids.shape[:2]
        self.images.append(
            dict(id=img_id, file_name=img_name, height=height, width=width))
        self.annotations.append(
            dict(image_id=img_id, file_name=png_name,
                 segments_info=segments_info))

    def commit_converted(self, description: str,
                         categories: List[dict]) -> str:
        """Publish the samples staged with :meth:`add_converted`.

        Args:
            description (str): ``info.description`` of the JSON.
            categories (list[dict]): COCO panoptic categories.

        Returns:
            str: Path of the published JSON.
        """
        return self.commit(
            dict(info=dict(description=description), images=self.images,
                 annotations=self.annotations, categories=categories))

    def commit(self, coco: dict) -> str:
        """Write the JSON; publish images, PNGs and JSON over older ones.

        Args:
            coco (dict): The split's COCO panoptic dict.

        Returns:
            str: Path of the published JSON.
        """
        staged_json = osp.join(self._stage, 'panoptic.json')
        with open(staged_json, 'w', encoding='utf-8') as f:
            json.dump(coco, f)
        previous = osp.join(self._stage, 'previous')
        os.mkdir(previous)
        moves = [(self.image_dir, self.paths['images']),
                 (self.png_dir, self.paths['pngs']),
                 (staged_json, self.paths['json'])]
        done = []  # (src, dst, backup or None)
        try:
            for i, (src, dst) in enumerate(moves):
                backup = None
                if osp.lexists(dst):
                    backup = osp.join(previous, str(i))
                    os.rename(dst, backup)
                done.append((src, dst, backup))
                os.rename(src, dst)
        except OSError:
            for src, dst, backup in reversed(done):
                if osp.lexists(dst) and not osp.lexists(src):
                    os.rename(dst, src)
                if backup is not None:
                    os.rename(backup, dst)
            raise
        shutil.rmtree(self._stage, ignore_errors=True)
        return self.paths['json']
