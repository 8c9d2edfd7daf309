"""tools/misc/check_dataset.py: a sound dataset passes; each kind of problem is named with its
file and id, and the exit status is 1."""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest

from mmpanoptic_cabb.data_preparation.dataset_check import check_coco_panoptic
from mmpanoptic_cabb.structures.panoptic_png import (read_panoptic_png,
                                                     write_panoptic_png)
from tests import load_tool
from .tiny_config import DEMO_CONFIG, REPO_ROOT


def _paths(root, split='train'):
    return (osp.join(root, 'annotations', f'panoptic_{split}.json'),
            osp.join(root, 'images', split),
            osp.join(root, 'annotations', f'panoptic_{split}'))


def test_sound_dataset(tiny_synthetic_root):
    for split in ('train', 'val'):
        count, problems = check_coco_panoptic(*_paths(tiny_synthetic_root,
                                                      split))
        assert count == {'train': 6, 'val': 3}[split]
        assert problems == []


def test_problems_are_named(tiny_synthetic_root, tmp_path):
    root = str(tmp_path / 'data')
    shutil.copytree(tiny_synthetic_root, root)
    ann_file, img_dir, seg_dir = _paths(root)
    with open(ann_file) as f:
        data = json.load(f)
    anns = data['annotations']
    images = {im['id']: im for im in data['images']}
    # 0: corrupt JPEG; 1: PNG id changed; 2: unknown category, wrong area, stuff crowd
    jpg0 = osp.join(img_dir, images[anns[0]['image_id']]['file_name'])
    with open(jpg0, 'wb') as f:
        f.write(b'garbage')
    png1 = osp.join(seg_dir, anns[1]['file_name'])
    ids = read_panoptic_png(png1)
    old = anns[1]['segments_info'][0]['id']
    ids[ids == old] = 77
    write_panoptic_png(png1, ids)
    seg2 = anns[2]['segments_info']
    seg2[0]['category_id'] = 999
    seg2[1]['area'] += 5
    stuff = {c['id'] for c in data['categories'] if not c['isthing']}
    stuff_seg = next(s for s in seg2 if s['category_id'] in stuff)
    stuff_seg['iscrowd'] = 1
    os.remove(osp.join(seg_dir, anns[3]['file_name']))
    with open(ann_file, 'w') as f:
        json.dump(data, f)

    count, problems = check_coco_panoptic(ann_file, img_dir, seg_dir, nproc=2)
    assert count == 6
    text = '\n'.join(problems)
    assert f'{jpg0} (image_id={anns[0]["image_id"]!r}): cannot be decoded' \
        in text
    assert f'{png1} (image_id={anns[1]["image_id"]!r}): segment id 77 is in ' \
        'the PNG but not in the JSON' in text
    assert f'segment id {old} is in the JSON but not in the PNG' in text
    assert f'segment id {seg2[0]["id"]} has unknown category_id 999' in text
    assert f'segment id {seg2[1]["id"]} has area {seg2[1]["area"]}' in text
    assert f'segment id {stuff_seg["id"]} is crowd but its category' in text
    assert anns[3]['file_name'] in text and 'does not exist' in text
    assert len(problems) == 7, text

    tool = load_tool('misc', 'check_dataset')
    options = ['--cfg-options',
               f'train_dataloader.dataset.dataset.data_root={root}/']
    assert tool.main([DEMO_CONFIG, '--split', 'val'] + [
        options[0], f'val_dataloader.dataset.data_root={root}/']) == 0
    assert tool.main([DEMO_CONFIG] + options) == 1


@pytest.mark.slow
def test_command_line(tiny_synthetic_root):
    proc = subprocess.run(
        ['nice', '-n', '19', sys.executable,
         osp.join(REPO_ROOT, 'tools', 'misc', 'check_dataset.py'),
         DEMO_CONFIG, '--nproc', '2', '--cfg-options',
         f'train_dataloader.dataset.dataset.data_root={tiny_synthetic_root}/'],
        cwd=REPO_ROOT, env=dict(os.environ, PYTHONPATH=REPO_ROOT),
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'train: 6 annotations checked, 0 problems' in proc.stdout
