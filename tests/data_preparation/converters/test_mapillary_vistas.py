"""Mapillary Vistas converter on a tiny fixture in the original layout."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmpanoptic_cabb.data_preparation.converters import (
    BadIdError, InvalidAnnotationError, MismatchedFilesError,
    MissingInputError, convert_mapillary_vistas_split)
from mmpanoptic_cabb.datasets.categories import \
    MAPILLARY_VISTAS_V12_CATEGORIES
from mmpanoptic_cabb.structures.panoptic_png import (read_panoptic_png,
                                                     write_panoptic_png)

H, W = 18, 30
KEYS = ('0aBcD_eFgH', 'Zz9_-yX8w', 'k3y_three')
CAR, PERSON, ROAD, SKY = 56, 20, 14, 28


def vistas_sample(index: int):
    """Panoptic ids (Vistas-style large ids) and their segments_info."""
    ids = np.zeros((H, W), np.int32)  # void
    road, sky = 7000 + index, 3000
    car0, car1, crowd = 120000 + index, 65793, 4100
    ids[8:] = road
    ids[:6] = sky
    ids[9:14, 2:10] = car0
    ids[10:15, 14:20] = car1
    ids[6:12, 22:28] = crowd
    ids[14:, 26:] = 0
    cats = {
        road: (ROAD, 0),
        sky: (SKY, 0),
        car0: (CAR, 0),
        car1: (CAR, 0),
        crowd: (PERSON, 1)
    }
    segments = []
    for seg_id, (cat, iscrowd) in cats.items():
        ys, xs = np.nonzero(ids == seg_id)
        segments.append(
            dict(
                id=seg_id,
                category_id=cat,
                iscrowd=iscrowd,
                area=int(len(ys)),
                bbox=[
                    int(xs.min()),
                    int(ys.min()),
                    int(xs.max() - xs.min() + 1),
                    int(ys.max() - ys.min() + 1)
                ]))
    return ids, segments


def official_categories():
    """Categories as panoptic_2018.json lists them (id order, interleaved)."""
    return [
        dict(
            id=cid,
            name=name,
            isthing=isthing,
            color=list(color),
            supercategory=sup)
        for cid, name, isthing, color, sup in MAPILLARY_VISTAS_V12_CATEGORIES
    ]


def make_vistas_root(
    root: str,
    folder: str = 'training',
    panoptic_sub: str = osp.join('v1.2', 'panoptic')
) -> str:
    """Write the fixture in Vistas' layout; returns ``root``."""
    rng = np.random.default_rng(2)
    img_dir = osp.join(root, folder, 'images')
    pan_dir = osp.join(root, folder, panoptic_sub)
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(pan_dir, exist_ok=True)
    images, annotations = [], []
    for index, key in enumerate(KEYS):
        cv2.imwrite(
            osp.join(img_dir, key + '.jpg'),
            rng.integers(0, 255, (H, W, 3), dtype=np.uint8))
        ids, segments = vistas_sample(index)
        write_panoptic_png(osp.join(pan_dir, key + '.png'), ids)
        images.append(dict(id=key, file_name=key + '.jpg', height=H, width=W))
        annotations.append(
            dict(image_id=key, file_name=key + '.png', segments_info=segments))
    with open(osp.join(pan_dir, 'panoptic_2018.json'), 'w') as f:
        json.dump(
            dict(
                images=images,
                annotations=annotations,
                categories=official_categories()), f)
    return root


@pytest.fixture
def mvd_root(tmp_path) -> str:
    return make_vistas_root(str(tmp_path / 'vistas'))


def _json_path(root: str) -> str:
    return osp.join(root, 'training', 'v1.2', 'panoptic', 'panoptic_2018.json')


def _edit_json(root: str, edit) -> None:
    with open(_json_path(root)) as f:
        coco = json.load(f)
    edit(coco)
    with open(_json_path(root), 'w') as f:
        json.dump(coco, f)


def test_convert_outputs(mvd_root, tmp_path):
    out = str(tmp_path / 'out')
    convert_mapillary_vistas_split(mvd_root, out, 'train')
    with open(osp.join(out, 'annotations', 'panoptic_train.json')) as f:
        coco = json.load(f)
    with open(_json_path(mvd_root)) as f:
        src = json.load(f)
    cats = coco['categories']
    assert len(cats) == 65
    assert [c['isthing'] for c in cats] == [1] * 37 + [0] * 28
    assert sorted(map(json.dumps,
                      cats)) == sorted(map(json.dumps, src['categories']))
    assert [im['id'] for im in coco['images']] == [1, 2, 3]
    for img, ann, src_ann in zip(coco['images'], coco['annotations'],
                                 src['annotations']):
        assert ann['image_id'] == img['id']
        assert ann['segments_info'] == src_ann['segments_info']
        assert osp.islink(osp.join(out, 'images', 'train', img['file_name']))
        png = osp.join(out, 'annotations', 'panoptic_train', ann['file_name'])
        ids = read_panoptic_png(png)
        assert set(np.unique(ids).tolist()) - {0} == {
            s['id']
            for s in ann['segments_info']
        }


def test_v11_layout_and_copy(tmp_path):
    root = make_vistas_root(str(tmp_path / 'vistas'), 'validation', 'panoptic')
    out = str(tmp_path / 'out')
    path = convert_mapillary_vistas_split(
        root, out, 'val', image_mode='copy', check_pixels=False)
    assert path.endswith(osp.join('annotations', 'panoptic_val.json'))
    png_dir = osp.join(out, 'annotations', 'panoptic_val')
    assert sorted(os.listdir(png_dir)) == sorted(k + '.png' for k in KEYS)
    assert not osp.islink(osp.join(png_dir, KEYS[0] + '.png'))


def test_missing_inputs(mvd_root, tmp_path):
    out = str(tmp_path / 'out')
    with pytest.raises(MissingInputError, match='validation'):
        convert_mapillary_vistas_split(mvd_root, out, 'val')
    os.remove(_json_path(mvd_root))
    with pytest.raises(MissingInputError, match='panoptic_2018.json'):
        convert_mapillary_vistas_split(mvd_root, out, 'train')


def test_missing_png(mvd_root, tmp_path):
    png = osp.join(osp.dirname(_json_path(mvd_root)), KEYS[1] + '.png')
    os.remove(png)
    with pytest.raises(MissingInputError, match='image_id') as err:
        convert_mapillary_vistas_split(mvd_root, str(tmp_path / 'out'))
    assert png in str(err.value)


def test_png_id_not_in_json(mvd_root, tmp_path):
    png = osp.join(osp.dirname(_json_path(mvd_root)), KEYS[2] + '.png')
    ids, _ = vistas_sample(2)
    ids[0, 0] = 424242
    write_panoptic_png(png, ids)
    with pytest.raises(BadIdError, match=r'\[424242\]') as err:
        convert_mapillary_vistas_split(mvd_root, str(tmp_path / 'out'))
    assert png in str(err.value)


@pytest.mark.parametrize('edit, error, pattern', [
    (lambda c: c['categories'].append(
        dict(id=66, name='Unlabeled', isthing=0)), BadIdError,
     'category id 66'),
    (lambda c: c['categories'][13].update(isthing=1), BadIdError,
     "'Road' with isthing=1"),
    (lambda c: c['annotations'][0]['segments_info'][0].update(category_id=99),
     BadIdError, 'category_id 99'),
    (lambda c: c['annotations'][1]['segments_info'][1].update(id=-3),
     BadIdError, 'segment id -3'),
    (lambda c: c['annotations'][0]['segments_info'][0].pop('bbox'),
     InvalidAnnotationError, r"\['bbox'\]"),
    (lambda c: c['images'][0].update(height=H + 1), InvalidAnnotationError,
     'differs from the image size'),
    (lambda c: c['annotations'].pop(1), MismatchedFilesError,
     'has no annotation'),
])
def test_bad_json(mvd_root, tmp_path, edit, error, pattern):
    _edit_json(mvd_root, edit)
    with pytest.raises(error, match=pattern) as err:
        convert_mapillary_vistas_split(mvd_root, str(tmp_path / 'out'))
    assert osp.basename(_json_path(mvd_root)) in str(err.value)


def test_mismatched_images(mvd_root, tmp_path):
    img_dir = osp.join(mvd_root, 'training', 'images')
    extra = osp.join(img_dir, 'extra_key.jpg')
    cv2.imwrite(extra, np.zeros((H, W, 3), np.uint8))
    with pytest.raises(MismatchedFilesError, match='without annotation') as e:
        convert_mapillary_vistas_split(mvd_root, str(tmp_path / 'out'))
    assert extra in str(e.value)
    os.remove(extra)
    os.remove(osp.join(img_dir, KEYS[0] + '.jpg'))
    with pytest.raises(MismatchedFilesError, match='but no file') as e:
        convert_mapillary_vistas_split(mvd_root, str(tmp_path / 'out'))
    assert KEYS[0] + '.jpg' in str(e.value)
    assert not osp.exists(
        osp.join(tmp_path, 'out', 'annotations', 'panoptic_train.json'))


def test_extra_png(mvd_root, tmp_path):
    extra = osp.join(osp.dirname(_json_path(mvd_root)), 'orphan.png')
    write_panoptic_png(extra, np.zeros((H, W), np.int32))
    with pytest.raises(MismatchedFilesError, match='without annotation') as e:
        convert_mapillary_vistas_split(mvd_root, str(tmp_path / 'out'))
    assert extra in str(e.value)
