"""Up-front validation of a COCO-panoptic dataset (``tools/misc/check_dataset.py``).

Every annotation is checked against its files: the image and the panoptic PNG exist and
decode, the image has the size the JSON states, the PNG's segment ids are the JSON's (both
ways), every category is known, areas and boxes match the pixels, crowd flags are 0/1 and only
on thing classes, ids are unique. Each problem is a line naming the file and the id.
"""
import json
import os.path as osp
from multiprocessing import Pool
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmpanoptic_cabb.structures.errors import PanopticFormatError
from mmpanoptic_cabb.structures.panoptic_png import read_panoptic_png
from mmpanoptic_cabb.structures.panoptic_segments import segment_stats


def check_annotation(ann: dict, image: Optional[dict], img_dir: str,
                     seg_dir: str, categories: Dict[int, dict]) -> List[str]:
    """Problems of one annotation (empty when it is sound).

    Args:
        ann (dict): Entry of the JSON's ``annotations`` (``file_name``, ``image_id``,
            ``segments_info``).
        image (dict, optional): Its entry of ``images`` (``file_name``, ``height``,
            ``width``); None when missing.
        img_dir (str): Folder of the images.
        seg_dir (str): Folder of the panoptic PNGs.
        categories (dict[int, dict]): Category id -> category (``isthing``).

    Returns:
        list[str]: One line per problem, naming the file and the id.
    """
    png = osp.join(seg_dir, ann['file_name'])
    where = f'{png} (image_id={ann.get("image_id")!r})'
    problems = []
    if image is None:
        return [f'{where}: no entry in "images"']
    img_path = osp.join(img_dir, image['file_name'])
    if not osp.isfile(img_path):
        problems.append(f'{img_path} (image_id={image["id"]!r}): missing')
    else:
        img = cv2.imread(img_path, cv2.IMREAD_UNCHANGED)
        if img is None:
            problems.append(f'{img_path} (image_id={image["id"]!r}): '
                            'cannot be decoded')
        elif img.shape[:2] != (image['height'], image['width']):
            problems.append(
                f'{img_path} (image_id={image["id"]!r}): size '
                f'{img.shape[1]}x{img.shape[0]}, the JSON says '
                f'{image["width"]}x{image["height"]}')
    segments = ann.get('segments_info', [])
    seg_ids = [int(s['id']) for s in segments]
    seen = set()
    for sid in seg_ids:
        if sid in seen:
            problems.append(f'{where}: segment id {sid} is listed twice')
        seen.add(sid)
    for s in segments:
        cat = categories.get(s.get('category_id'))
        if cat is None:
            problems.append(f'{where}: segment id {s["id"]} has unknown '
                            f'category_id {s.get("category_id")!r}')
        crowd = s.get('iscrowd', 0)
        if crowd not in (0, 1):
            problems.append(f'{where}: segment id {s["id"]} has iscrowd='
                            f'{crowd!r} (0 or 1 expected)')
        elif crowd and cat is not None and not cat.get('isthing', 1):
            problems.append(f'{where}: segment id {s["id"]} is crowd but its '
                            f'category {cat.get("name", s["category_id"])!r} '
                            'is stuff')
    try:
        ids = read_panoptic_png(png)
    except PanopticFormatError as err:
        return problems + [f'{where}: {err}']
    if image is not None and ids.shape != (image['height'], image['width']):
        problems.append(f'{where}: PNG size {ids.shape[1]}x{ids.shape[0]}, '
                        f'the JSON says {image["width"]}x{image["height"]}')
    problems += _check_pixels(ids, segments, where)
    return problems


def _check_pixels(ids: np.ndarray, segments: Sequence[dict],
                  where: str) -> List[str]:
    """PNG ids against the JSON's; areas and boxes against the pixels."""
    seg_ids = np.asarray([int(s['id']) for s in segments], dtype=np.int64)
    present = np.unique(ids)
    present = present[present != 0]
    problems = [f'{where}: segment id {int(i)} is in the PNG but not in '
                'the JSON' for i in np.setdiff1d(present, seg_ids)]
    problems += [f'{where}: segment id {int(i)} is in the JSON but not in '
                 'the PNG' for i in np.setdiff1d(seg_ids, present)]
    order = np.argsort(seg_ids, kind='stable')
    pos = np.searchsorted(seg_ids[order], ids)
    pos = np.clip(pos, 0, max(seg_ids.size - 1, 0))
    index = np.zeros(ids.shape, np.int64)
    if seg_ids.size:
        hit = seg_ids[order][pos] == ids
        index[hit] = order[pos[hit]] + 1
    areas, boxes = segment_stats(index, len(segments))
    for k, s in enumerate(segments, start=1):
        if areas[k] == 0:
            continue
        if 'area' in s and int(s['area']) != int(areas[k]):
            problems.append(f'{where}: segment id {s["id"]} has area '
                            f'{s["area"]}, its pixels count {int(areas[k])}')
        box = s.get('bbox')
        if box is not None and boxes[k - 1] is not None and np.abs(
                np.asarray(box, float) -
                np.asarray(boxes[k - 1], float)).max() > 1:
            problems.append(f'{where}: segment id {s["id"]} has bbox {box}, '
                            f'its pixels span {boxes[k - 1]}')
    return problems


def _check_one(args: Tuple) -> List[str]:
    return check_annotation(*args)


def check_coco_panoptic(ann_file: str, img_dir: str, seg_dir: str,
                        nproc: int = 1,
                        progress: Optional[Callable[[], None]] = None
                        ) -> Tuple[int, List[str]]:
    """Check every annotation of a COCO-panoptic JSON.

    Args:
        ann_file (str): The JSON.
        img_dir (str): Folder of the images.
        seg_dir (str): Folder of the panoptic PNGs.
        nproc (int): Worker processes. Defaults to 1.
        progress (Callable, optional): Called once per checked annotation.

    Returns:
        tuple[int, list[str]]: Number of annotations checked and the problems.
    """
    with open(ann_file) as f:
        data = json.load(f)
    categories = {int(c['id']): c for c in data.get('categories', [])}
    images = {}
    problems = []
    for image in data.get('images', []):
        if image['id'] in images:
            problems.append(f'{ann_file}: image id {image["id"]!r} is listed '
                            'twice in "images"')
        images[image['id']] = image
    annotated = {a.get('image_id') for a in data.get('annotations', [])}
    problems += [f'{osp.join(img_dir, images[i]["file_name"])} '
                 f'(image_id={i!r}): no annotation'
                 for i in images if i not in annotated]
    tasks = [(ann, images.get(ann.get('image_id')), img_dir, seg_dir,
              categories) for ann in data.get('annotations', [])]
    if nproc > 1:
        with Pool(nproc) as pool:
            for found in pool.imap(_check_one, tasks, chunksize=4):
                problems += found
                if progress is not None:
                    progress()
    else:
        for task in tasks:
            problems += _check_one(task)
            if progress is not None:
                progress()
    return len(tasks), problems
