"""A tiny COCO panoptic dataset and CUS/ISUS pipeline for the sampling tests.

Shared by the class-uniform sampling, ISUS resize and scale-statistics tool
tests: five classes (two things, three stuff) over eight 48x64 images.
"""
import json

import cv2
import numpy as np

CATEGORIES = [
    dict(id=1, name='car', isthing=1),
    dict(id=2, name='person', isthing=1),
    dict(id=3, name='sky', isthing=0),
    dict(id=4, name='road', isthing=0),
    dict(id=5, name='pole', isthing=0),
]
METAINFO = dict(
    classes=('car', 'person', 'sky', 'road', 'pole'),
    thing_classes=('car', 'person'),
    stuff_classes=('sky', 'road', 'pole'))
CAR, PERSON, SKY, ROAD, POLE = range(5)
#: The RoI extractor's ``featmap_strides`` of mmdet's FPN: four levels.
STRIDES_4 = (4, 8, 16, 32)


def write_coco_panoptic(root, num_images=8, h=48, w=64):
    """A tiny COCO panoptic dataset: cars in every image, one person (image
    0), one pole (image 1), a crowd of cars (image 2), void pixels."""
    rng = np.random.default_rng(0)
    for sub in ('images', 'panoptic'):
        (root / sub).mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    for i in range(num_images):
        pan = np.zeros((h, w), dtype=np.int64)
        pan[:h // 2], pan[h // 2:] = 3001, 4001
        pan[h - 2:, :4] = 0  # void
        cats = {3001: 3, 4001: 4}
        crowd = set()
        for k in range(i % 3 + 1):
            ch, cw = [(6, 8), (12, 16), (20, 28)][k]
            y, x = rng.integers(0, h - ch), rng.integers(0, w - cw)
            pan[y:y + ch, x:x + cw] = 1000 + k
            cats[1000 + k] = 1
        if i == 0:
            pan[30:40, 50:56] = 2000
            cats[2000] = 2
        if i == 1:
            pan[5:40, 60:62] = 5000
            cats[5000] = 5
        if i == 2:
            pan[0:6, 0:20] = 1099
            cats[1099] = 1
            crowd.add(1099)
        segments = []
        for sid, cat in cats.items():
            ys, xs = np.nonzero(pan == sid)
            if ys.size == 0:
                continue
            segments.append(
                dict(
                    id=sid,
                    category_id=cat,
                    iscrowd=int(sid in crowd),
                    area=int(ys.size),
                    bbox=[
                        int(xs.min()),
                        int(ys.min()),
                        int(xs.max() - xs.min() + 1),
                        int(ys.max() - ys.min() + 1)
                    ]))
        name = f'img_{i:03d}'
        bgr = np.stack([(pan >> 16) & 255, (pan >> 8) & 255, pan & 255],
                       axis=-1).astype(np.uint8)
        cv2.imwrite(str(root / 'panoptic' / f'{name}.png'), bgr)
        cv2.imwrite(
            str(root / 'images' / f'{name}.jpg'),
            rng.integers(0, 255, (h, w, 3), dtype=np.uint8))
        images.append(dict(id=i, file_name=f'{name}.jpg', height=h, width=w))
        annotations.append(
            dict(image_id=i, file_name=f'{name}.png', segments_info=segments))
    with open(root / 'panoptic.json', 'w') as f:
        json.dump(
            dict(
                images=images, annotations=annotations, categories=CATEGORIES),
            f)
    return root


def train_pipeline(isus=True,
                   crop=(32, 32),
                   finest_scale=8,
                   featmap_strides=STRIDES_4):
    return [
        dict(type='LoadImageFromFile'),
        dict(type='LoadPanopticAnnotationsLean'),
        dict(
            type='ISUSResize',
            short_side=48,
            stuff_range=(0.8, 1.25),
            thing_range=(0.25, 4.0),
            isus=isus,
            level_rule=dict(
                finest_scale=finest_scale, featmap_strides=featmap_strides)),
        dict(type='PanopticRandomFlip', prob=0.5),
        dict(type='TruncationAwareRandomCrop', crop_size=crop),
        dict(type='InstMapToMasks'),
        dict(
            type='PackPanopticInputs',
            meta_keys=('img_id', 'img_shape', 'sampled_class',
                       'sampled_instance', 'isus_sigma', 'isus_level')),
    ]


def dataset_cfg(root, pipeline):
    return dict(
        type='CocoPanopticDataset',
        data_root=str(root),
        ann_file='panoptic.json',
        data_prefix=dict(img='images/', seg='panoptic/'),
        metainfo=METAINFO,
        filter_cfg=None,
        pipeline=pipeline)
