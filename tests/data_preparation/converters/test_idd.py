"""IDD converter on a tiny fixture in the original layout."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmpanoptic_cabb.data_preparation.converters import (
    BadIdError, MismatchedFilesError, MissingInputError, convert_idd_split,
    validate_panoptic_split)
from mmpanoptic_cabb.datasets.categories import IDD_LEVEL3_CATEGORIES
from . import (converted_segments, load_converted, reference_segment,
               segment_classes)

H, W = 20, 36
# (sequence, frame, image extension); frame 000123 repeats across sequences.
FRAMES = (('0', '000123', '.png'), ('1', '000123', '.png'), ('1', '000456',
                                                             '.jpg'))


def idd_instance_ids(index: int) -> np.ndarray:
    """A (H, W) level-3 instance id map; 0 is road, 255 void."""
    ids = np.zeros((H, W), np.uint16)  # road (level-3 id 0)
    ids[:5] = 25  # sky
    ids[5:8, :10] = 22  # building
    ids[8:14, 2:9] = 9000  # car #0
    ids[8:12, 10:16] = 9001 + index  # car #1
    ids[6:18, 18:21] = 4000  # person
    ids[12:18, 24:32] = 4  # person group: crowd
    ids[14:20, 0:4] = 8000  # autorickshaw
    ids[5:9, 30:33] = 18  # traffic sign (stuff in IDD)
    ids[0:2, 28:36] = 255  # void
    return ids


def make_idd_root(root: str, split: str = 'train') -> str:
    """Write the fixture in IDD's layout; returns ``root``."""
    rng = np.random.default_rng(1)
    for index, (seq, frame, ext) in enumerate(FRAMES):
        img_dir = osp.join(root, 'leftImg8bit', split, seq)
        ann_dir = osp.join(root, 'gtFine', split, seq)
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(ann_dir, exist_ok=True)
        cv2.imwrite(
            osp.join(img_dir, frame + '_leftImg8bit' + ext),
            rng.integers(0, 255, (H, W, 3), dtype=np.uint8))
        cv2.imwrite(
            osp.join(ann_dir, frame + '_gtFine_instancelevel3Ids.png'),
            idd_instance_ids(index))
    return root


@pytest.fixture
def idd_root(tmp_path) -> str:
    return make_idd_root(str(tmp_path / 'idd'))


def test_convert_outputs(idd_root, tmp_path):
    out = str(tmp_path / 'out')
    convert_idd_split(idd_root, out, 'train')
    coco = load_converted(out)
    cats = coco['categories']
    assert len(cats) == 26
    validate_panoptic_split(
        coco, 'panoptic_train.json',
        osp.join(out, 'annotations', 'panoptic_train'),
        {c[0]: (c[1], c[2])
         for c in IDD_LEVEL3_CATEGORIES})
    assert [c['isthing'] for c in cats] == [1] * 9 + [0] * 17
    assert [c['id'] for c in cats[:9]] == list(range(4, 13))
    assert cats[9] == dict(
        id=0,
        name='road',
        isthing=0,
        color=[128, 64, 128],
        supercategory='drivable')
    assert [im['file_name'] for im in coco['images']] == [
        '0_000123_leftImg8bit.png', '1_000123_leftImg8bit.png',
        '1_000456_leftImg8bit.jpg'
    ]
    for index, (img,
                ann) in enumerate(zip(coco['images'], coco['annotations'])):
        assert ann['file_name'] == img['file_name'].rsplit(
            '_leftImg8bit', 1)[0] + '_gtFine_panoptic.png'
        assert osp.isfile(osp.join(out, 'images', 'train', img['file_name']))
        ids, segs = converted_segments(out, ann)
        src = idd_instance_ids(index).astype(np.int32)
        # segment id = source value + 1; road (0) becomes segment 1
        expected = {
            1: (0, 0),
            26: (25, 0),
            23: (22, 0),
            9001: (9, 0),
            9002 + index: (9, 0),
            4001: (4, 0),
            5: (4, 1),
            8001: (8, 0),
            19: (18, 0)
        }
        assert segment_classes(segs) == expected
        for seg_id, seg in segs.items():
            mask = src == seg_id - 1
            np.testing.assert_array_equal(ids == seg_id, mask)
            assert reference_segment(mask) == (seg['area'], seg['bbox'])
        assert (ids[src == 255] == 0).all()


def test_missing_folder(idd_root, tmp_path):
    with pytest.raises(MissingInputError, match='leftImg8bit.val'):
        convert_idd_split(idd_root, str(tmp_path / 'out'), 'val')


@pytest.mark.parametrize('value, pattern', [(26, r'id 26 is not an IDD'),
                                            (13000, r'instance id 13000'),
                                            (300, r'id 300 is not an IDD')])
def test_bad_id(idd_root, tmp_path, value, pattern):
    path = osp.join(idd_root, 'gtFine', 'train', '1',
                    '000456_gtFine_instancelevel3Ids.png')
    ids = idd_instance_ids(2)
    ids[3, 3] = value
    cv2.imwrite(path, ids)
    with pytest.raises(BadIdError, match=pattern) as err:
        convert_idd_split(idd_root, str(tmp_path / 'out'), 'train')
    assert path in str(err.value)
    assert not osp.exists(
        osp.join(tmp_path, 'out', 'annotations', 'panoptic_train.json'))


def test_mismatched_files(idd_root, tmp_path):
    os.remove(
        osp.join(idd_root, 'leftImg8bit', 'train', '0',
                 '000123_leftImg8bit.png'))
    with pytest.raises(
            MismatchedFilesError, match='annotation.s. without image') as err:
        convert_idd_split(idd_root, str(tmp_path / 'out'), 'train')
    assert osp.join('0',
                    '000123_gtFine_instancelevel3Ids.png') in str(err.value)
