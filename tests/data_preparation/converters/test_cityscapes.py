"""Cityscapes converter on a tiny fixture in the original layout."""
import importlib.util
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmpanoptic_cabb.data_preparation.converters import (
    BadIdError, InvalidAnnotationError, MismatchedFilesError,
    MissingInputError, convert_cityscapes_split, validate_panoptic_split)
from mmpanoptic_cabb.datasets.categories import CITYSCAPES_CATEGORIES
from mmpanoptic_cabb.structures.panoptic_png import read_panoptic_png
from tests import load_tool
from . import (converted_segments, load_converted, reference_segment,
               segment_classes)

H, W = 24, 40
FRAMES = (('aachen', 'aachen_000000_000019'),
          ('aachen', 'aachen_000001_000019'), ('bonn', 'bonn_000000_000019'))


def cityscapes_instance_ids(index: int) -> np.ndarray:
    """A (H, W) instanceIds map: stuff, instances, a car group, void."""
    ids = np.full((H, W), 7, np.uint16)  # road
    ids[:6] = 23  # sky
    ids[6:10, :12] = 11  # building
    ids[10:16, 2:10] = 26000  # car #0
    ids[10:14, 12:18] = 26001 + index  # car #1 (id varies per image)
    ids[4:20, 20:24] = 24000  # person
    ids[16:22, 26:36] = 26  # car group: crowd
    ids[0:3, 30:40] = 0  # unlabeled: void
    ids[20:24, 0:6] = 9  # parking (not evaluated): void
    ids[12:18, 36:40] = 29000  # caravan instance (not evaluated): void
    ids[2:4, 0:4] = 4  # static: void
    return ids


def frame_paths(root: str, index: int, split: str = 'train') -> tuple:
    """Source image and ``instanceIds`` paths of ``FRAMES[index]``."""
    city, stem = FRAMES[index]
    return (osp.join(root, 'leftImg8bit', split, city,
                     stem + '_leftImg8bit.png'),
            osp.join(root, 'gtFine', split, city,
                     stem + '_gtFine_instanceIds.png'))


def make_cityscapes_root(root: str, split: str = 'train') -> str:
    """Write the fixture in Cityscapes' layout; returns ``root``."""
    rng = np.random.default_rng(0)
    for index in range(len(FRAMES)):
        img_path, ann_path = frame_paths(root, index, split)
        for path in (img_path, ann_path):
            os.makedirs(osp.dirname(path), exist_ok=True)
        cv2.imwrite(img_path, rng.integers(0, 255, (H, W, 3), dtype=np.uint8))
        cv2.imwrite(ann_path, cityscapes_instance_ids(index))
    return root


def _remove_frame(root: str, index: int) -> None:
    """Delete the source image and annotation of ``FRAMES[index]``."""
    for path in frame_paths(root, index):
        os.remove(path)


@pytest.fixture
def cs_root(tmp_path) -> str:
    return make_cityscapes_root(str(tmp_path / 'cityscapes'))


def test_convert_outputs(cs_root, tmp_path):
    out = str(tmp_path / 'out')
    json_path = convert_cityscapes_split(cs_root, out, 'train')
    assert json_path == osp.join(out, 'annotations', 'panoptic_train.json')
    coco = load_converted(out)
    validate_panoptic_split(
        coco, 'panoptic_train.json',
        osp.join(out, 'annotations', 'panoptic_train'),
        {c[0]: (c[1], c[2])
         for c in CITYSCAPES_CATEGORIES})
    # categories: things first, label ids as category ids
    cats = coco['categories']
    assert [c['isthing'] for c in cats] == [1] * 8 + [0] * 11
    assert {c['id'] for c in cats} == {c[0] for c in CITYSCAPES_CATEGORIES}
    assert [c['name'] for c in cats[:8]] == [
        'person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle',
        'bicycle'
    ]
    assert [im['id'] for im in coco['images']] == [1, 2, 3]
    assert [im['file_name'] for im in coco['images']
            ] == [s + '_leftImg8bit.png' for _, s in FRAMES]
    for index, (img,
                ann) in enumerate(zip(coco['images'], coco['annotations'])):
        assert ann['image_id'] == img['id']
        assert (img['height'], img['width']) == (H, W)
        img_link = osp.join(out, 'images', 'train', img['file_name'])
        assert osp.islink(img_link) and osp.isfile(img_link)
        ids, segs = converted_segments(out, ann)
        src = cityscapes_instance_ids(index).astype(np.int32)
        expected = {
            7: (7, 0),
            23: (23, 0),
            11: (11, 0),
            26000: (26, 0),
            26001 + index: (26, 0),
            24000: (24, 0),
            26: (26, 1)
        }
        assert segment_classes(segs) == expected
        for seg_id, seg in segs.items():
            assert (ids == seg_id).sum() == seg['area']
            assert reference_segment(src == seg_id) == (seg['area'],
                                                        seg['bbox'])
        # void: unlabeled, static, parking and caravan pixels
        void = np.isin(src, [0, 4, 9, 29000])
        assert (ids[void] == 0).all() and (ids[~void] != 0).all()


def test_missing_folder(cs_root, tmp_path):
    with pytest.raises(MissingInputError, match='leftImg8bit.val'):
        convert_cityscapes_split(cs_root, str(tmp_path / 'out'), 'val')
    os.makedirs(osp.join(cs_root, 'leftImg8bit', 'val', 'bonn'))
    with pytest.raises(MissingInputError, match='gtFine.val'):
        convert_cityscapes_split(cs_root, str(tmp_path / 'out'), 'val')
    os.makedirs(osp.join(cs_root, 'gtFine', 'val'))
    with pytest.raises(MissingInputError, match='no images and no annot'):
        convert_cityscapes_split(cs_root, str(tmp_path / 'out'), 'val')
    os.rename(osp.join(cs_root, 'leftImg8bit'), osp.join(cs_root, 'moved'))
    with pytest.raises(MissingInputError, match='leftImg8bit.train'):
        convert_cityscapes_split(cs_root, str(tmp_path / 'out'), 'train')


@pytest.mark.parametrize('value, pattern', [(40, r'id 40 is not'),
                                            (7001, r'instance id 7001')])
def test_bad_id(cs_root, tmp_path, value, pattern):
    _, path = frame_paths(cs_root, 2)
    ids = cityscapes_instance_ids(2)
    ids[0, 0] = value
    cv2.imwrite(path, ids)
    with pytest.raises(BadIdError, match=pattern) as err:
        convert_cityscapes_split(cs_root, str(tmp_path / 'out'), 'train')
    assert path in str(err.value)


def test_mismatched_files(cs_root, tmp_path):
    _, ann = frame_paths(cs_root, 1)
    os.remove(ann)
    with pytest.raises(
            MismatchedFilesError, match='image.s. without annotation') as err:
        convert_cityscapes_split(cs_root, str(tmp_path / 'out'), 'train')
    assert 'aachen_000001_000019_leftImg8bit.png' in str(err.value)
    cv2.imwrite(ann, cityscapes_instance_ids(1))
    os.remove(frame_paths(cs_root, 2)[0])
    with pytest.raises(
            MismatchedFilesError, match='annotation.s. without image') as err:
        convert_cityscapes_split(cs_root, str(tmp_path / 'out'), 'train')
    assert 'bonn_000000_000019_gtFine_instanceIds.png' in str(err.value)


def test_size_mismatch(cs_root, tmp_path):
    _, path = frame_paths(cs_root, 2)
    cv2.imwrite(path, cityscapes_instance_ids(2)[:, :-1])
    with pytest.raises(InvalidAnnotationError, match='differs from its image'):
        convert_cityscapes_split(cs_root, str(tmp_path / 'out'), 'train')


def test_error_keeps_previous_output(cs_root, tmp_path):
    out = str(tmp_path / 'out')
    convert_cityscapes_split(cs_root, out, 'train', image_mode='copy')
    before = load_converted(out)
    png_dir = osp.join(out, 'annotations', 'panoptic_train')
    pngs_before = sorted(os.listdir(png_dir))
    _, path = frame_paths(cs_root, 2)
    ids = cityscapes_instance_ids(2)
    ids[5, 5] = 99
    cv2.imwrite(path, ids)
    with pytest.raises(BadIdError):
        convert_cityscapes_split(cs_root, out, 'train')
    assert load_converted(out) == before
    assert sorted(os.listdir(png_dir)) == pngs_before
    assert not osp.islink(
        osp.join(out, 'images', 'train', before['images'][0]['file_name']))
    assert sorted(os.listdir(out)) == ['annotations', 'images']  # no staging


def test_reconvert_replaces_output(cs_root, tmp_path):
    out = str(tmp_path / 'out')
    convert_cityscapes_split(cs_root, out, 'train')
    _remove_frame(cs_root, 2)
    convert_cityscapes_split(cs_root, out, 'train')
    assert len(load_converted(out)['images']) == 2
    assert len(os.listdir(osp.join(out, 'annotations', 'panoptic_train'))) == 2
    assert sorted(os.listdir(out)) == ['annotations', 'images']


def test_cli(cs_root, tmp_path, capsys):
    main = load_tool('dataset_converters', 'cityscapes_panoptic').main
    out = str(tmp_path / 'out')
    argv = [
        'cityscapes_panoptic.py', '--root', cs_root, '--out', out, '--split',
        'train'
    ]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr('sys.argv', argv)
        assert main() == 0
        assert osp.isfile(osp.join(out, 'annotations', 'panoptic_train.json'))
        mp.setattr('sys.argv', argv[:-1] + ['val'])
        assert main() == 1
    assert 'MissingInputError' in capsys.readouterr().err


@pytest.mark.skipif(
    importlib.util.find_spec('cityscapesscripts') is None,
    reason='cityscapesscripts is not installed')
def test_matches_cityscapesscripts(cs_root, tmp_path):
    from cityscapesscripts.preparation.createPanopticImgs import \
        convert2panoptic
    ref_dir = str(tmp_path / 'ref')
    os.makedirs(ref_dir)
    convert2panoptic(osp.join(cs_root, 'gtFine'), ref_dir, setNames=['train'])
    with open(osp.join(ref_dir, 'cityscapes_panoptic_train.json')) as f:
        ref = json.load(f)
    out = str(tmp_path / 'out')
    convert_cityscapes_split(cs_root, out, 'train')
    ours = load_converted(out)
    assert sorted(
        (c['id'], c['name'], c['isthing'])
        for c in ref['categories']) == sorted(
            (c['id'], c['name'], c['isthing']) for c in ours['categories'])
    assert len(ref['annotations']) == len(ours['annotations'])
    for ref_ann, ann in zip(ref['annotations'], ours['annotations']):
        assert ref_ann['file_name'] == ann['file_name']
        assert ref_ann['segments_info'] == ann['segments_info']
        ref_ids = read_panoptic_png(
            osp.join(ref_dir, 'cityscapes_panoptic_train',
                     ref_ann['file_name']))
        ids = read_panoptic_png(
            osp.join(out, 'annotations', 'panoptic_train', ann['file_name']))
        np.testing.assert_array_equal(ref_ids, ids)


def test_failed_publish_rolls_back(cs_root, tmp_path, monkeypatch):
    out = str(tmp_path / 'out')
    convert_cityscapes_split(cs_root, out, 'train', image_mode='copy')
    before = load_converted(out)
    _remove_frame(cs_root, 2)
    real_rename = os.rename

    def failing_rename(src, dst):  # fails to publish the staged JSON
        if osp.basename(src) == 'panoptic.json':
            raise OSError('disk full')
        real_rename(src, dst)

    monkeypatch.setattr(os, 'rename', failing_rename)
    with pytest.raises(OSError, match='disk full'):
        convert_cityscapes_split(cs_root, out, 'train')
    monkeypatch.setattr(os, 'rename', real_rename)
    assert load_converted(out) == before
    for sub in (('images', 'train'), ('annotations', 'panoptic_train')):
        assert len(os.listdir(osp.join(out, *sub))) == 3
    assert not osp.islink(
        osp.join(out, 'images', 'train', before['images'][0]['file_name']))
    assert sorted(os.listdir(out)) == ['annotations', 'images']
