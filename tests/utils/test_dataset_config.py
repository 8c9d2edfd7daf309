"""A dataset's values in the shared CROP/CUS config base
(``mmpanoptic_cabb.utils.dataset_config``), and the four dataset bases that
use it."""
import os.path as osp

import pytest
from mmengine.config import Config

from mmpanoptic_cabb.utils.dataset_config import (fill_crop_cus_base,
                                                  set_by_type)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATASET_BASES = osp.join(REPO_ROOT, 'configs', '_base_', 'datasets')
VALUES = dict(dataset_type='SomeDataset', data_root='data/some/', s0=600,
              stuff_range=(0.7, 1.5), crop_size=(320, 480), batch_size=3)


@pytest.fixture(scope='module')
def shared_base() -> Config:
    """The shared CROP/CUS base, as ``_base_`` of a dataset base sees it."""
    return Config.fromfile(osp.join(DATASET_BASES, 'panoptic_crop_cus.py'))


def _by_type(pipeline) -> dict:
    return {step['type']: step for step in pipeline}


def test_set_by_type_changes_only_steps_of_that_type():
    pipeline = [dict(type='A', x=0), dict(type='B', x=0), dict(type='A')]
    out = set_by_type(pipeline, 'A', x=1, y=2)
    assert out == [dict(type='A', x=1, y=2), dict(type='B', x=0),
                   dict(type='A', x=1, y=2)]
    assert out[1] is pipeline[1]
    assert pipeline == [dict(type='A', x=0), dict(type='B', x=0),
                        dict(type='A')]


def test_set_by_type_names_the_missing_step():
    with pytest.raises(KeyError) as err:
        set_by_type([dict(type='A'), dict(type='B')], 'ISUSResize',
                    short_side=1)
    message = str(err.value)
    assert "no 'ISUSResize' step" in message
    assert 'its steps: A, B' in message
    assert "['short_side']" in message


def test_values_land_in_the_steps_found_by_type(shared_base):
    # Reordered pipelines: the values follow the step types, not positions.
    base = dict(train_pipeline=shared_base.train_pipeline[::-1],
                test_pipeline=shared_base.test_pipeline[::-1])
    cfg = fill_crop_cus_base(base, **VALUES)
    train = _by_type(cfg['train_pipeline'])
    assert [s['type'] for s in cfg['train_pipeline']] == [
        s['type'] for s in base['train_pipeline']]
    assert train['ISUSResize']['short_side'] == 600
    assert train['ISUSResize']['stuff_range'] == (0.7, 1.5)
    assert train['TruncationAwareRandomCrop']['crop_size'] == (320, 480)
    # The rest of the changed steps is inherited, the other steps untouched.
    base_train = _by_type(base['train_pipeline'])
    assert train['ISUSResize']['thing_range'] == (0.25, 4.0)
    assert train['ISUSResize']['isus'] is False
    for name in ('LoadImageFromFile', 'PanopticRandomFlip', 'InstMapToMasks',
                 'PackPanopticInputs'):
        assert train[name] is base_train[name]
    assert base_train['ISUSResize']['short_side'] is None
    test = _by_type(cfg['test_pipeline'])
    assert test['Resize']['scale'] == (4800, 600)
    assert test['Resize']['keep_ratio'] is True


def test_loaders_and_evaluators(shared_base):
    cfg = fill_crop_cus_base(shared_base, **VALUES)
    assert (cfg['dataset_type'], cfg['data_root'], cfg['s0']) == (
        'SomeDataset', 'data/some/', 600)
    train = cfg['train_dataloader']
    assert train['batch_size'] == 3
    assert 'num_workers' not in train  # the base's is kept
    assert train['sampler'] == dict(infinite=True)
    assert train['dataset'] == dict(dataset=dict(
        type='SomeDataset', data_root='data/some/',
        pipeline=cfg['train_pipeline']))
    assert cfg['val_dataloader'] == dict(dataset=dict(
        type='SomeDataset', data_root='data/some/',
        pipeline=cfg['test_pipeline']))
    assert cfg['test_dataloader'] is cfg['val_dataloader']
    assert cfg['val_evaluator'] == dict(
        ann_file='data/some/annotations/panoptic_val.json',
        seg_prefix='data/some/annotations/panoptic_val/')
    assert cfg['test_evaluator'] is cfg['val_evaluator']
    epoch_based = fill_crop_cus_base(
        shared_base, **VALUES, epoch_based=True, num_workers=1)
    assert epoch_based['train_dataloader']['sampler'] == dict(infinite=False)
    assert epoch_based['train_dataloader']['num_workers'] == 1


@pytest.mark.parametrize('pipeline, step', [
    ('train_pipeline', 'ISUSResize'),
    ('train_pipeline', 'TruncationAwareRandomCrop'),
    ('test_pipeline', 'Resize'),
])
def test_missing_step_is_named(shared_base, pipeline, step):
    base = dict(train_pipeline=shared_base.train_pipeline,
                test_pipeline=shared_base.test_pipeline)
    base[pipeline] = [s for s in base[pipeline] if s.type != step]
    with pytest.raises(KeyError, match=f"no '{step}' step"):
        fill_crop_cus_base(base, **VALUES)


def _nones(node, path=''):
    """Paths of the ``None`` values under ``node`` (``backend_args`` aside,
    where None means the local disk)."""
    if isinstance(node, dict):
        return [p for key, value in node.items() if key != 'backend_args'
                for p in _nones(value, f'{path}.{key}')]
    if isinstance(node, (list, tuple)):
        return [p for i, value in enumerate(node)
                for p in _nones(value, f'{path}[{i}]')]
    return [path] if node is None else []


# dataset base -> type, root, s0, r_st, crop, batch, infinite sampler, workers
BASES = dict(
    cityscapes_panoptic=('CityscapesPanopticDataset', 'data/cityscapes/',
                         1024, (0.5, 2.0), (512, 512), 8, False, 4),
    idd_panoptic=('IDDPanopticDataset', 'data/idd/', 1080, (0.5, 2.0),
                  (512, 512), 8, False, 4),
    mapillary_vistas_panoptic=('MapillaryVistasPanopticDataset',
                               'data/mapillary_vistas/', 2400, (0.8, 1.25),
                               (1024, 1024), 4, False, 4),
    synthetic_panoptic=('SyntheticPanopticDataset', 'data/synthetic/', 512,
                        (0.5, 2.0), (256, 256), 2, True, 2))


@pytest.mark.parametrize('name', sorted(BASES))
def test_dataset_base_resolves_with_its_values(name):
    (dataset_type, root, s0, r_st, crop, batch, infinite,
     workers) = BASES[name]
    cfg = Config.fromfile(osp.join(DATASET_BASES, name + '.py')).to_dict()
    keys = ('train_pipeline', 'test_pipeline', 'train_dataloader',
            'val_dataloader', 'test_dataloader', 'val_evaluator',
            'test_evaluator')
    # Every placeholder of the shared base is filled, and only the keys of a
    # config are left (the imported helper is not one of them).
    assert _nones({key: cfg[key] for key in keys}) == []
    assert set(cfg) == set(keys) | {'backend_args', 'dataset_type',
                                    'data_root', 's0'}
    assert (cfg['dataset_type'], cfg['data_root'], cfg['s0']) == (
        dataset_type, root, s0)
    train_loader = cfg['train_dataloader']
    assert (train_loader['batch_size'], train_loader['num_workers'],
            train_loader['sampler']) == (
                batch, workers,
                dict(type='ClassUniformSampler', infinite=infinite))
    dataset = train_loader['dataset']['dataset']
    assert (dataset['type'], dataset['data_root']) == (dataset_type, root)
    assert dataset['ann_file'] == 'annotations/panoptic_train.json'
    for pipeline in (cfg['train_pipeline'], dataset['pipeline']):
        steps = _by_type(pipeline)
        assert steps['ISUSResize']['short_side'] == s0
        assert tuple(steps['ISUSResize']['stuff_range']) == r_st
        assert tuple(steps['TruncationAwareRandomCrop']['crop_size']) == crop
    for loader in ('val_dataloader', 'test_dataloader'):
        dataset = cfg[loader]['dataset']
        assert (dataset['type'], dataset['data_root']) == (dataset_type,
                                                           root)
        assert cfg[loader]['batch_size'] == 1
        assert dataset['test_mode'] is True
        resize = _by_type(dataset['pipeline'])['Resize']
        assert tuple(resize['scale']) == (8 * s0, s0)
    for evaluator in ('val_evaluator', 'test_evaluator'):
        assert cfg[evaluator] == dict(
            type='PanopticQualityMetric',
            ann_file=root + 'annotations/panoptic_val.json',
            seg_prefix=root + 'annotations/panoptic_val/', max_dets=256,
            backend_args=None)
