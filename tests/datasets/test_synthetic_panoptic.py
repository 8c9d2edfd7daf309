"""SyntheticPanopticDataset reads the generated COCO panoptic data with mmdet's pipeline."""
import json
import os.path as osp

import numpy as np
from mmengine.registry import init_default_scope

from mmpanoptic_cabb.datasets import SyntheticPanopticDataset
from mmpanoptic_cabb.datasets.categories import synthetic_metainfo


def _dataset(root: str, pipeline=(), test_mode=False):
    init_default_scope('mmdet')
    return SyntheticPanopticDataset(
        data_root=root,
        ann_file='annotations/panoptic_train.json',
        data_prefix=dict(img='images/train/',
                         seg='annotations/panoptic_train/'),
        pipeline=list(pipeline),
        test_mode=test_mode)


def test_metainfo_things_first(tiny_synthetic_root):
    meta = SyntheticPanopticDataset.METAINFO
    n_th = len(meta['thing_classes'])
    assert meta['classes'][:n_th] == meta['thing_classes']
    assert meta['classes'][n_th:] == meta['stuff_classes']
    assert len(meta['palette']) == len(meta['classes'])
    # against the categories the generator wrote into the annotations
    with open(osp.join(tiny_synthetic_root, 'annotations',
                       'panoptic_train.json')) as f:
        categories = json.load(f)['categories']
    things = [c['name'] for c in categories if c['isthing']]
    stuff = [c['name'] for c in categories if not c['isthing']]
    assert (things, stuff) == (['car', 'person', 'sign'],
                               ['sky', 'road', 'vegetation', 'building'])
    assert meta['classes'] == tuple(things + stuff)
    assert meta['thing_classes'] == tuple(things)
    assert meta['stuff_classes'] == tuple(stuff)
    by_name = {c['name']: c for c in categories}
    assert [bool(by_name[name]['isthing']) for name in meta['classes']
            ] == [True] * n_th + [False] * (len(categories) - n_th)
    assert meta['palette'] == [
        tuple(by_name[name]['color']) for name in meta['classes']
    ]
    # the dataset labels every category id by its METAINFO position
    ds = _dataset(tiny_synthetic_root)
    assert ds.cat2label == {
        by_name[name]['id']: label
        for label, name in enumerate(meta['classes'])
    }


def test_data_list_matches_json(tiny_synthetic_root):
    ds = _dataset(tiny_synthetic_root)
    with open(osp.join(tiny_synthetic_root, 'annotations',
                       'panoptic_train.json')) as f:
        coco = json.load(f)
    assert len(ds) == len(coco['images'])
    thing_cat = {c['id'] for c in coco['categories'] if c['isthing']}
    for index, ann in enumerate(coco['annotations']):
        info = ds.get_data_info(index)
        assert osp.basename(info['seg_map_path']) == ann['file_name']
        assert len(info['segments_info']) == len(ann['segments_info'])
        n_things = sum(s['category_id'] in thing_cat
                       for s in ann['segments_info'])
        crowd = sum(s['iscrowd'] for s in ann['segments_info'])
        # mmdet keeps crowd regions in segments_info only, not as instances.
        assert len(info['instances']) == n_things - crowd
        assert all(i['ignore_flag'] == 0 for i in info['instances'])
        for inst in info['instances']:
            assert inst['bbox_label'] < len(synthetic_metainfo()['thing_classes'])


def test_pipeline_output(tiny_synthetic_root):
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadPanopticAnnotations'),
        dict(type='PackDetInputs'),
    ]
    ds = _dataset(tiny_synthetic_root, pipeline)
    item = ds[0]
    inputs, sample = item['inputs'], item['data_samples']
    assert tuple(inputs.shape) == (3, 256, 512)
    sem = sample.gt_sem_seg.sem_seg.numpy()
    labels = set(np.unique(sem).tolist())
    num_classes = len(synthetic_metainfo()['classes'])
    assert labels <= set(range(num_classes)) | {255}
    n_th = len(synthetic_metainfo()['thing_classes'])
    assert labels & set(range(n_th, num_classes)), 'no stuff pixels'
    inst = sample.gt_instances
    assert len(inst) == inst.masks.masks.shape[0] == inst.bboxes.shape[0]
    assert (inst.labels < n_th).all()
