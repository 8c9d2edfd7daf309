"""Vistas, Cityscapes and IDD dataset classes on converted tiny fixtures."""
import json
import os.path as osp

import pytest
from mmengine.registry import init_default_scope

from mmdet.datasets import CocoPanopticDataset
from mmdet.registry import DATASETS
from mmpanoptic_cabb.datasets.cityscapes_panoptic import \
    CityscapesPanopticDataset
from mmpanoptic_cabb.data_preparation.converters import (
    convert_cityscapes_split, convert_idd_split,
    convert_mapillary_vistas_split)
from mmpanoptic_cabb.datasets.idd_panoptic import IDDPanopticDataset
from mmpanoptic_cabb.datasets.synthetic_panoptic import SyntheticPanopticDataset
from mmpanoptic_cabb.datasets.mapillary_vistas_panoptic import \
    MapillaryVistasPanopticDataset
from tests import REPO_ROOT
from tests.data_preparation.converters.test_cityscapes import (
    cityscapes_instance_ids, make_cityscapes_root)
from tests.data_preparation.converters.test_idd import (idd_instance_ids,
                                                        make_idd_root)
from tests.data_preparation.converters.test_mapillary_vistas import (
    KEYS, make_vistas_root, vistas_sample)

PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadPanopticAnnotations'),
    dict(type='PackDetInputs'),
]


def _dataset(cls,
             root,
             ann_file='annotations/panoptic_train.json',
             img='images/train/',
             seg='annotations/panoptic_train/',
             pipeline=(),
             **kwargs):
    init_default_scope('mmdet')
    return cls(
        data_root=root,
        ann_file=ann_file,
        data_prefix=dict(img=img, seg=seg),
        pipeline=list(pipeline),
        **kwargs)


@pytest.mark.parametrize('cls, num_classes, num_things', [
    (MapillaryVistasPanopticDataset, 65, 37),
    (CityscapesPanopticDataset, 19, 8),
    (IDDPanopticDataset, 26, 9),
])
def test_metainfo(cls, num_classes, num_things):
    meta = cls.METAINFO
    assert len(meta['classes']) == len(set(meta['classes'])) == num_classes
    assert len(meta['thing_classes']) == num_things
    assert meta['classes'] == meta['thing_classes'] + meta['stuff_classes']
    assert len(meta['palette']) == num_classes
    assert DATASETS.get(cls.__name__) is cls


def _infos(ds):
    # ``ds.data_list`` is emptied once the dataset is serialized
    return [ds.get_data_info(i) for i in range(len(ds))]


def _check_dataset(ds, out, num_things, expected_labels):
    """Common checks: PNG paths from the JSON, thing and semantic labels."""
    with open(osp.join(out, 'annotations', 'panoptic_train.json')) as f:
        coco = json.load(f)
    assert len(ds) == len(coco['images'])
    classes = ds.metainfo['classes']
    for info, ann in zip(_infos(ds), coco['annotations'], strict=True):
        assert info['seg_map_path'] == osp.join(out, 'annotations',
                                                'panoptic_train',
                                                ann['file_name'])
        assert osp.isfile(info['img_path'])
        assert len(info['segments_info']) == len(ann['segments_info'])
        for inst in info['instances']:
            assert inst['bbox_label'] < num_things
        cats = {c['id']: c for c in coco['categories']}
        # mmdet keeps crowd regions as non-thing segments, not as instances
        assert len(info['instances']) == sum(
            cats[s['category_id']]['isthing'] and not s['iscrowd']
            for s in ann['segments_info'])
        for seg, raw in zip(info['segments_info'], ann['segments_info']):
            assert classes[seg['category']] == cats[raw['category_id']]['name']
            assert seg['is_thing'] == bool(cats[raw['category_id']]['isthing']
                                           and not raw['iscrowd'])
    item = ds[0]
    sem = item['data_samples'].gt_sem_seg.sem_seg.numpy()[0]
    for (y, x), name in expected_labels.items():
        assert sem[y, x] == (classes.index(name) if name else 255)
    labels = item['data_samples'].gt_instances.labels
    assert len(labels) and (labels < num_things).all()


@pytest.mark.parametrize(
    'make_root, convert, cls, source_ids, source_values, num_things, '
    'expected_labels', [
        (make_cityscapes_root, convert_cityscapes_split,
         CityscapesPanopticDataset, cityscapes_instance_ids, {
             (12, 4): 26000,
             (18, 30): 26,
             (1, 35): 0
         }, 8, {
             (12, 4): 'car',
             (8, 20): 'person',
             (18, 30): 'car',
             (1, 5): 'sky',
             (1, 35): None,
             (22, 2): None
         }),
        (make_idd_root, convert_idd_split, IDDPanopticDataset,
         idd_instance_ids, {
             (16, 2): 8000,
             (19, 10): 0,
             (0, 30): 255
         }, 9, {
             (16, 2): 'autorickshaw',
             (19, 10): 'road',
             (14, 28): 'person',
             (6, 31): 'traffic sign',
             (0, 30): None
         }),
        (make_vistas_root, convert_mapillary_vistas_split,
         MapillaryVistasPanopticDataset, lambda k: vistas_sample(k)[0], {
             (10, 4): 120000,
             (17, 28): 0
         }, 37, {
             (10, 4): 'Car',
             (8, 24): 'Person',
             (2, 2): 'Sky',
             (16, 12): 'Road',
             (17, 28): None
         }),
    ],
    ids=['cityscapes', 'idd', 'mapillary_vistas'])
def test_converted_dataset(tmp_path, make_root, convert, cls, source_ids,
                           source_values, num_things, expected_labels):
    """A converted tiny fixture loads with the right paths and labels; the
    probed pixels have the stated source ids (image 0)."""
    root = make_root(str(tmp_path / 'raw'))
    out = str(tmp_path / 'converted')
    convert(root, out, 'train')
    ds = _dataset(cls, out, pipeline=PIPELINE)
    src = source_ids(0)
    for (y, x), value in source_values.items():
        assert src[y, x] == value
    _check_dataset(ds, out, num_things, expected_labels)


def test_interleaved_json_labels_by_name(tmp_path):
    """The official Vistas JSON (stuff and things interleaved, string image
    ids) gets labels by name; mmdet's JSON-order mapping would differ."""
    root = make_vistas_root(str(tmp_path / 'raw'))
    kwargs = dict(
        ann_file='v1.2/panoptic/panoptic_2018.json',
        img='images/',
        seg='v1.2/panoptic/')
    ds = _dataset(MapillaryVistasPanopticDataset, osp.join(root, 'training'),
                  **kwargs)
    classes = ds.metainfo['classes']
    car = classes.index('Car')
    assert car < 37
    assert [i['img_id'] for i in _infos(ds)] == list(KEYS)
    for info in _infos(ds):
        assert osp.isfile(info['seg_map_path'])
        assert {i['bbox_label'] for i in info['instances']} == {car}
    mmdet_ds = _dataset(
        CocoPanopticDataset,
        osp.join(root, 'training'),
        metainfo=MapillaryVistasPanopticDataset.METAINFO,
        **kwargs)
    assert {i['bbox_label'] for i in _infos(mmdet_ds)[0]['instances']} != {car}


@pytest.mark.parametrize('edit, pattern', [
    (lambda c: c['categories'].pop(), 'no category for class'),
    (lambda c: c['categories'][0].update(isthing=0), 'isthing=0'),
    (lambda c: c['categories'][0].update(name='Dragon'), "'Dragon'"),
])
def test_category_mismatch(tmp_path, edit, pattern):
    root = make_vistas_root(str(tmp_path / 'raw'))
    out = str(tmp_path / 'vistas')
    convert_mapillary_vistas_split(root, out, 'train', check_pixels=False)
    path = osp.join(out, 'annotations', 'panoptic_train.json')
    with open(path) as f:
        coco = json.load(f)
    edit(coco)
    with open(path, 'w') as f:
        json.dump(coco, f)
    with pytest.raises(ValueError, match=pattern):
        _dataset(MapillaryVistasPanopticDataset, out)


def test_configs_build(tmp_path):
    """The ``_base_`` dataset configs name our classes and the paper values,
    set in the steps of the shared crop pipeline (found by type)."""
    from mmengine.config import Config
    expected = dict(
        mapillary_vistas_panoptic=(MapillaryVistasPanopticDataset, 37, 28,
                                   2400, (0.8, 1.25), (1024, 1024), 4),
        cityscapes_panoptic=(CityscapesPanopticDataset, 8, 11, 1024,
                             (0.5, 2.0), (512, 512), 8),
        idd_panoptic=(IDDPanopticDataset, 9, 17, 1080, (0.5, 2.0),
                      (512, 512), 8),
        synthetic_panoptic=(SyntheticPanopticDataset, 3, 4, 512, (0.5, 2.0),
                            (256, 256), 2))
    for name, (cls, n_th, n_st, s0, r_st, crop, batch) in expected.items():
        cfg = Config.fromfile(
            osp.join(REPO_ROOT, 'configs', '_base_', 'datasets',
                     name + '.py'))
        for dataset in (cfg.train_dataloader.dataset.dataset,
                        cfg.val_dataloader.dataset,
                        cfg.test_dataloader.dataset):
            assert DATASETS.get(dataset.type) is cls
            assert dataset.data_root == cfg.data_root
        assert (len(cls.METAINFO['thing_classes']),
                len(cls.METAINFO['stuff_classes'])) == (n_th, n_st)
        assert n_th + n_st == len(cls.METAINFO['classes'])
        for pipeline in (cfg.train_pipeline,
                         cfg.train_dataloader.dataset.dataset.pipeline):
            steps = {step.type: step for step in pipeline}
            assert steps['ISUSResize'].short_side == s0
            assert tuple(steps['ISUSResize'].stuff_range) == r_st
            assert tuple(steps['TruncationAwareRandomCrop'].crop_size) == crop
        for loader in (cfg.val_dataloader, cfg.test_dataloader):
            resize = {s.type: s for s in loader.dataset.pipeline}['Resize']
            assert tuple(resize.scale) == (8 * s0, s0)
        assert cfg.train_dataloader.batch_size == batch
        for evaluator in (cfg.val_evaluator, cfg.test_evaluator):
            assert evaluator.type == 'PanopticQualityMetric'
            assert evaluator.ann_file == (cfg.data_root +
                                          'annotations/panoptic_val.json')
            assert evaluator.seg_prefix == (cfg.data_root +
                                            'annotations/panoptic_val/')
