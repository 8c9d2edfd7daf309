"""High-resolution panoptic samples for the benchmarks (offline only).

:func:`write_benchmark_sample` draws one street-scene-like sample at any
size (stuff bands, many thing instances of log-uniform sizes, one crowd
region, some void) and writes a JPEG image, its COCO panoptic PNG and the
data info of a dataset entry (``img_path``, ``seg_map_path``, ``instances``,
``segments_info`` with contiguous labels). :func:`write_benchmark_dataset`
lays copies of it out as a COCO panoptic dataset (images, PNGs, JSON) that
the dataset classes load, for data loader benchmarks.
"""
import json
import os
import os.path as osp
from typing import Dict, Sequence

import cv2
import numpy as np
from scipy import ndimage

from mmpanoptic_cabb.structures.panoptic_png import (MAX_PANOPTIC_ID,
                                                     write_panoptic_png)

#: Labels of the default sample: 3 thing and 4 stuff classes.
THING_LABELS, STUFF_LABELS = (0, 1, 2), (3, 4, 5, 6)


def write_benchmark_sample(out_dir: str,
                           megapixels: float,
                           num_instances: int,
                           seed: int = 0,
                           thing_labels: Sequence[int] = THING_LABELS,
                           stuff_labels: Sequence[int] = STUFF_LABELS,
                           name: str = 'image',
                           aspect: float = 4 / 3) -> str:
    """Write a panoptic sample; returns the path of its data info JSON.

    Stuff bands (one per stuff label), exactly ``num_instances`` visible
    things (rectangles and ellipses with log-uniform sizes, drawn large to
    small so that later ones occlude earlier ones, labels cycling through
    ``thing_labels``), one crowd region and some void pixels.

    Args:
        out_dir (str): Folder of ``{name}.jpg``, ``{name}.png`` and
            ``{name}.json``.
        megapixels (float): Image size.
        num_instances (int): Visible thing instances.
        seed (int): Seed of the drawing.
        thing_labels (Sequence[int]): Contiguous labels of the things.
        stuff_labels (Sequence[int]): Contiguous labels of the stuff bands.
        name (str): Base name of the files.
        aspect (float): Width over height. Defaults to 4:3.

    Returns:
        str: Path of the data info JSON.
    """
    rng = np.random.default_rng(seed)
    w = int(round(np.sqrt(megapixels * 1e6 * aspect)))
    h = int(round(megapixels * 1e6 / w))
    pan = np.zeros((h, w), dtype=np.int32)
    segments = []  # (id, label, is_thing, iscrowd)
    bounds = np.linspace(0, h, len(stuff_labels) + 1).astype(int)
    for k, label in enumerate(stuff_labels):
        pan[bounds[k]:bounds[k + 1]] = 1 + k
        segments.append((1 + k, label, False, False))
    pan[:h // 50, :w // 50] = 0  # void
    used = {s[0] for s in segments}

    def new_id() -> int:
        sid = int(rng.integers(256, MAX_PANOPTIC_ID + 1))
        while sid in used:
            sid = int(rng.integers(256, MAX_PANOPTIC_ID + 1))
        used.add(sid)
        return sid

    def draw(sid: int, side: float, ellipse: bool) -> None:
        hh = max(2, int(side * rng.uniform(0.5, 1.5)))
        ww = max(2, int(side * rng.uniform(0.5, 1.5)))
        y, x = int(rng.integers(0, h - hh)), int(rng.integers(0, w - ww))
        if ellipse:
            cv2.ellipse(pan, (x + ww // 2, y + hh // 2),
                        (max(ww // 2, 1), max(hh // 2, 1)), 0, 0, 360,
                        int(sid), -1)
        else:
            pan[y:y + hh, x:x + ww] = sid

    crowd = new_id()  # a crowd region under everything else
    draw(crowd, min(h, w) / 6, False)
    segments.append((crowd, thing_labels[0], False, True))
    sides = np.sort(
        np.exp(rng.uniform(np.log(8), np.log(min(h, w) / 3),
                           num_instances)))[::-1]
    things = []
    for k, side in enumerate(sides):
        things.append(new_id())
        draw(things[-1], side, bool(k % 2))
    visible = set(np.unique(pan).tolist())
    while len(visible.intersection(things)) < num_instances:
        for _ in range(num_instances - len(visible.intersection(things))):
            things.append(new_id())
            draw(things[-1], float(rng.uniform(8, 40)), False)
        visible = set(np.unique(pan).tolist())
    for k, sid in enumerate(things):
        if sid in visible:
            segments.append(
                (sid, thing_labels[k % len(thing_labels)], True, False))

    seg_path = osp.join(out_dir, f'{name}.png')
    write_panoptic_png(seg_path, pan)
    ids = np.array([s[0] for s in segments], dtype=np.int64)
    lut = np.zeros(max(int(pan.max()), int(ids.max())) + 1, dtype=np.int32)
    lut[ids] = np.arange(1, len(ids) + 1, dtype=np.int32)
    index = lut[pan]  # 1 + segment number, 0 for void
    palette = rng.integers(0, 255, (len(segments) + 1, 3), dtype=np.uint8)
    img = cv2.add(palette[index],
                  rng.integers(0, 20, (h, w, 3), dtype=np.uint8))
    img_path = osp.join(out_dir, f'{name}.jpg')
    cv2.imwrite(img_path, img, [cv2.IMWRITE_JPEG_QUALITY, 90])

    areas = np.bincount(index.reshape(-1), minlength=len(segments) + 1)
    extents = ndimage.find_objects(index, max_label=len(segments))
    instances, segments_info = [], []
    for (sid, label, is_thing,
         iscrowd), extent, area in zip(segments, extents, areas[1:]):
        if extent is None:
            continue
        rows, cols = extent
        box = [
            float(cols.start),
            float(rows.start),
            float(cols.stop),
            float(rows.stop)
        ]
        if is_thing:
            instances.append(dict(bbox=box, bbox_label=label, ignore_flag=0))
        segments_info.append(
            dict(
                id=sid,
                category=label,
                is_thing=is_thing,
                iscrowd=iscrowd,
                bbox=box,
                area=int(area)))
    info = dict(
        img_path=img_path,
        seg_map_path=seg_path,
        height=h,
        width=w,
        img_id=0,
        instances=instances,
        segments_info=segments_info)
    info_path = osp.join(out_dir, f'{name}.json')
    with open(info_path, 'w') as f:
        json.dump(info, f)
    return info_path


def write_benchmark_dataset(root: str,
                            info_path: str,
                            categories: Sequence[Dict],
                            num_images: int,
                            split: str = 'train') -> str:
    """Lay a benchmark sample out as a COCO panoptic dataset.

    ``images/{split}/`` and ``annotations/panoptic_{split}/`` get
    ``num_images`` links to the sample's image and PNG;
    ``annotations/panoptic_{split}.json`` lists them with the sample's
    segments. The layout of the converters' output, so the dataset bases of
    ``configs/`` load it with ``data_root=root``.

    Args:
        root (str): Dataset root to create.
        info_path (str): Data info JSON of :func:`write_benchmark_sample`.
        categories (Sequence[dict]): COCO ``categories`` in contiguous label
            order (things first): label ``k`` is ``categories[k]['id']``.
        num_images (int): Number of (identical) images.
        split (str): Split name. Defaults to 'train'.

    Returns:
        str: Path of the annotation JSON.
    """
    with open(info_path) as f:
        info = json.load(f)
    img_dir = osp.join(root, 'images', split)
    seg_dir = osp.join(root, 'annotations', f'panoptic_{split}')
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(seg_dir, exist_ok=True)
    images, annotations = [], []
    for k in range(num_images):
        stem = f'{split}_{k:06d}'
        for src, dst in ((info['img_path'], osp.join(img_dir, stem + '.jpg')),
                         (info['seg_map_path'],
                          osp.join(seg_dir, stem + '.png'))):
            if not osp.lexists(dst):
                os.symlink(osp.abspath(src), dst)
        images.append(
            dict(
                id=k,
                file_name=stem + '.jpg',
                height=info['height'],
                width=info['width']))
        annotations.append(
            dict(
                image_id=k,
                file_name=stem + '.png',
                segments_info=[
                    dict(
                        id=s['id'],
                        category_id=categories[s['category']]['id'],
                        iscrowd=int(s['iscrowd']),
                        bbox=[
                            s['bbox'][0], s['bbox'][1],
                            s['bbox'][2] - s['bbox'][0],
                            s['bbox'][3] - s['bbox'][1]
                        ],
                        area=s['area']) for s in info['segments_info']
                ]))
    ann_path = osp.join(root, 'annotations', f'panoptic_{split}.json')
    with open(ann_path, 'w') as f:
        json.dump(
            dict(
                images=images,
                annotations=annotations,
                categories=list(categories)), f)
    return ann_path
