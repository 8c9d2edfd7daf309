"""Every config under ``configs/`` (``_base_`` aside) builds without data
or downloads: the model, every transform of its train and test pipelines, the
optimizer wrapper and the parameter schedulers. The paper configs carry the
hyper-parameters of App. D, and the CABB / ISUS variants differ from their
parents only in the loss types / the ISUS resize step (compared on the fully
resolved configs)."""
import copy
import functools
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS, init_default_scope

import mmpanoptic_cabb  # noqa: F401  (registers the project's modules)
from mmdet.registry import (DATA_SAMPLERS, DATASETS, METRICS, MODELS,
                            TRANSFORMS)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(REPO_ROOT, 'configs')
ALL_CONFIGS = sorted(
    osp.relpath(p, CONFIG_DIR)
    for p in glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True)
    if '_base_' not in osp.relpath(p, CONFIG_DIR).split(osp.sep))
PAPER_DIRS = ('seamless', 'seamless_r50')

# Train pipelines of a resolved config (the variable, the wrapped dataset's).
TRAIN_PIPELINES = ('train_pipeline',
                   'train_dataloader.dataset.dataset.pipeline')
# Test pipelines of a resolved config (the variable, the loaders').
TEST_PIPELINES = ('test_pipeline', 'val_dataloader.dataset.pipeline',
                  'test_dataloader.dataset.pipeline')

# App. D per paper config: s0, r_st, crop (None: full images), images per
# GPU, lr_0, epochs.
MVD = dict(s0=2400, r_st=(0.8, 1.25), crop=(1024, 1024), imgs=4, lr=0.04,
           epochs=300)
MVD_FULL = dict(s0=1344, r_st=(0.8, 1.25), crop=None, imgs=1, lr=0.02,
                epochs=75)
IDD = dict(s0=1080, r_st=(0.5, 2.0), crop=(512, 512), imgs=8, lr=0.08,
           epochs=600)
IDD_FULL = dict(s0=1080, r_st=(0.5, 2.0), crop=None, imgs=1, lr=0.02,
                epochs=75)
CS = dict(s0=1024, r_st=(0.5, 2.0), crop=(512, 512), imgs=8, lr=0.04,
          epochs=150)
CS_FULL = dict(s0=1024, r_st=(0.5, 2.0), crop=None, imgs=1, lr=0.01,
               epochs=20)
_HR = 'seamless/seamless_hrnetv2-w48_'
_R50 = 'seamless_r50/seamless_r50_'
# config -> (App. D settings, CABB, ISUS)
PAPER_CONFIGS = {
    _HR + 'full_8xb1-75e_mapillary-vistas.py': (MVD_FULL, False, False),
    _HR + 'crop-1024_8xb4-300e_mapillary-vistas.py': (MVD, False, False),
    _HR + 'crop-1024-cabb_8xb4-300e_mapillary-vistas.py': (MVD, True, False),
    _HR + 'crop-1024-isus_8xb4-300e_mapillary-vistas.py': (MVD, False, True),
    _HR + 'crop-1024-cabb-isus_8xb4-300e_mapillary-vistas.py':
    (MVD, True, True),
    _R50 + 'crop-1024_8xb4-300e_mapillary-vistas.py': (MVD, False, False),
    _R50 + 'crop-1024-isus_8xb4-300e_mapillary-vistas.py': (MVD, False, True),
    _R50 + 'crop-1024-cabb-isus_8xb4-300e_mapillary-vistas.py':
    (MVD, True, True),
    _HR + 'full_8xb1-75e_idd.py': (IDD_FULL, False, False),
    _HR + 'crop-512_8xb8-600e_idd.py': (IDD, False, False),
    _HR + 'crop-512-isus_8xb8-600e_idd.py': (IDD, False, True),
    _HR + 'crop-512-cabb-isus_8xb8-600e_idd.py': (IDD, True, True),
    _HR + 'full_8xb1-20e_cityscapes.py': (CS_FULL, False, False),
    _HR + 'crop-512_8xb8-150e_cityscapes.py': (CS, False, False),
    _HR + 'crop-512-isus_8xb8-150e_cityscapes.py': (CS, False, True),
    _HR + 'crop-512-cabb-isus_8xb8-150e_cityscapes.py': (CS, True, True),
}
# Cityscapes runs are fine-tuned from their Mapillary Vistas counterparts.
CS_INIT = {
    _HR + 'full_8xb1-20e_cityscapes.py':
    'seamless_hrnetv2-w48_full_8xb1-75e_mapillary-vistas',
    _HR + 'crop-512_8xb8-150e_cityscapes.py':
    'seamless_hrnetv2-w48_crop-1024_8xb4-300e_mapillary-vistas',
    _HR + 'crop-512-isus_8xb8-150e_cityscapes.py':
    'seamless_hrnetv2-w48_crop-1024-isus_8xb4-300e_mapillary-vistas',
    _HR + 'crop-512-cabb-isus_8xb8-150e_cityscapes.py':
    'seamless_hrnetv2-w48_crop-1024-cabb-isus_8xb4-300e_mapillary-vistas',
}

_SYN = 'synthetic/seamless_hrnet-slim_crop-256'
CABB_KEYS = frozenset({'model.rpn_head.loss_bbox.type',
                       'model.roi_head.bbox_head.loss_bbox.type'})
# (parent, child, expected differing keys besides CABB_KEYS / the ISUS step)
VARIANT_PAIRS = [
    # synthetic set
    (_SYN + '_1200i_synthetic.py', _SYN + '-cabb_1200i_synthetic.py', 'cabb'),
    (_SYN + '_1200i_synthetic.py', _SYN + '-isus_1200i_synthetic.py', 'isus'),
    (_SYN + '_1200i_synthetic.py', _SYN + '-cabb-isus_1200i_synthetic.py',
     'cabb+isus'),
    (_SYN + '-isus_1200i_synthetic.py',
     _SYN + '-cabb-isus_1200i_synthetic.py', 'cabb'),
    # Mapillary Vistas set
    (_HR + 'crop-1024_8xb4-300e_mapillary-vistas.py',
     _HR + 'crop-1024-cabb_8xb4-300e_mapillary-vistas.py', 'cabb'),
    (_HR + 'crop-1024_8xb4-300e_mapillary-vistas.py',
     _HR + 'crop-1024-isus_8xb4-300e_mapillary-vistas.py', 'isus'),
    (_HR + 'crop-1024_8xb4-300e_mapillary-vistas.py',
     _HR + 'crop-1024-cabb-isus_8xb4-300e_mapillary-vistas.py', 'cabb+isus'),
    (_HR + 'crop-1024-isus_8xb4-300e_mapillary-vistas.py',
     _HR + 'crop-1024-cabb-isus_8xb4-300e_mapillary-vistas.py', 'cabb'),
    (_R50 + 'crop-1024_8xb4-300e_mapillary-vistas.py',
     _R50 + 'crop-1024-isus_8xb4-300e_mapillary-vistas.py', 'isus'),
    (_R50 + 'crop-1024-isus_8xb4-300e_mapillary-vistas.py',
     _R50 + 'crop-1024-cabb-isus_8xb4-300e_mapillary-vistas.py', 'cabb'),
    (_R50 + 'crop-1024_8xb4-300e_mapillary-vistas.py',
     _R50 + 'crop-1024-cabb-isus_8xb4-300e_mapillary-vistas.py', 'cabb+isus'),
    # IDD and Cityscapes (the latter also starts from another checkpoint)
    (_HR + 'crop-512_8xb8-600e_idd.py',
     _HR + 'crop-512-isus_8xb8-600e_idd.py', 'isus'),
    (_HR + 'crop-512-isus_8xb8-600e_idd.py',
     _HR + 'crop-512-cabb-isus_8xb8-600e_idd.py', 'cabb'),
    (_HR + 'crop-512_8xb8-600e_idd.py',
     _HR + 'crop-512-cabb-isus_8xb8-600e_idd.py', 'cabb+isus'),
    (_HR + 'crop-512_8xb8-150e_cityscapes.py',
     _HR + 'crop-512-isus_8xb8-150e_cityscapes.py', 'isus+init'),
    (_HR + 'crop-512-isus_8xb8-150e_cityscapes.py',
     _HR + 'crop-512-cabb-isus_8xb8-150e_cityscapes.py', 'cabb+init'),
    (_HR + 'crop-512_8xb8-150e_cityscapes.py',
     _HR + 'crop-512-cabb-isus_8xb8-150e_cityscapes.py', 'cabb+isus+init'),
    # FULL: the crop step is gone, one image per GPU, a shorter schedule
    (_SYN + '_1200i_synthetic.py',
     'synthetic/seamless_hrnet-slim_full_1200i_synthetic.py', 'full'),
]
# Keys a FULL variant changes besides removing the crop step from both train
# pipelines (shifting the later steps' indices): one image per iteration, the
# paper's MVD FULL s0 ratio (1344 / 2400) in training and testing, half the
# learning rate.
FULL_KEYS = {'train_dataloader.batch_size', 's0', 'optim_wrapper.optimizer.lr'}


@functools.lru_cache(maxsize=None)
def _load(rel_path: str) -> Config:
    return Config.fromfile(osp.join(CONFIG_DIR, rel_path))


def _cfg(rel_path: str) -> Config:
    """A private copy of the resolved config (the cache stays untouched)."""
    return copy.deepcopy(_load(rel_path))


def _innermost(dataset_cfg: dict) -> dict:
    while 'dataset' in dataset_cfg:
        dataset_cfg = dataset_cfg['dataset']
    return dataset_cfg


def _step(pipeline: list, type_name: str) -> dict:
    steps = [s for s in pipeline if s['type'] == type_name]
    assert len(steps) == 1, (type_name, pipeline)
    return steps[0]


def _tuples_to_lists(value):
    if isinstance(value, (list, tuple)):
        return [_tuples_to_lists(v) for v in value]
    return value


def _flatten(obj, prefix: str = '') -> dict:
    """{dotted.key: value}; lists of dicts (pipelines, schedulers) indexed."""
    if isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, (list, tuple)) and any(isinstance(v, dict)
                                                for v in obj):
        items = enumerate(obj)
    else:
        return {prefix: _tuples_to_lists(obj)}
    flat = {}
    for key, value in items:
        flat.update(_flatten(value, f'{prefix}.{key}' if prefix else str(key)))
    return flat


def _differing_keys(a: Config, b: Config) -> set:
    fa, fb = _flatten(a.to_dict()), _flatten(b.to_dict())
    missing = object()
    return {k for k in fa.keys() | fb.keys()
            if fa.get(k, missing) != fb.get(k, missing)}


def _isus_keys(cfg: Config) -> set:
    """Flattened keys of the ISUS switch: ``isus`` and the level rule."""
    keys = set()
    for path in TRAIN_PIPELINES:
        pipeline = _flatten_get(cfg, path)
        idx = next(i for i, s in enumerate(pipeline)
                   if s['type'] == 'ISUSResize')
        flat = _flatten(pipeline[idx], f'{path}.{idx}')
        keys |= {k for k in flat
                 if k.endswith('.isus') or '.level_rule' in k}
    return keys


def _flatten_get(cfg: Config, dotted: str):
    value = cfg
    for part in dotted.split('.'):
        value = value[part]
    return value


def test_config_catalogue():
    """The paper configs exist, and each is built by test_config_builds."""
    missing = set(PAPER_CONFIGS) - set(ALL_CONFIGS)
    assert not missing, missing
    paper = {c for c in ALL_CONFIGS if c.split(osp.sep)[0] in PAPER_DIRS}
    assert paper == set(PAPER_CONFIGS)
    assert any(c.startswith('synthetic' + osp.sep) for c in ALL_CONFIGS)


@pytest.mark.parametrize('config', ALL_CONFIGS)
def test_config_builds(config):
    cfg = _cfg(config)
    init_default_scope(cfg.get('default_scope', 'mmdet'))

    # model (no pretrained weights are fetched)
    model_cfg = cfg.model
    model_cfg.backbone.init_cfg = None
    model = MODELS.build(model_cfg)

    # class counts agree with the dataset everywhere they are used
    dataset_cfg = _innermost(cfg.train_dataloader.dataset)
    metainfo = DATASETS.get(dataset_cfg.type).METAINFO
    n_th, n_st = len(metainfo['thing_classes']), len(metainfo['stuff_classes'])
    if hasattr(model, 'roi_head'):
        assert model.roi_head.bbox_head.num_classes == n_th
        assert model.roi_head.mask_head.num_classes == n_th
    # stated once, on the model; the segmentor fills them into the heads
    assert (cfg.model.num_things_classes,
            cfg.model.num_stuff_classes) == (n_th, n_st)
    for head in (model.semantic_head, model.panoptic_fusion_head):
        assert (head.num_things_classes, head.num_stuff_classes) == (n_th,
                                                                      n_st)

    # data: every transform builds; wrappers, samplers, metrics registered
    train_pipeline = dataset_cfg.pipeline
    test_pipeline = cfg.test_dataloader.dataset.pipeline
    for step in (list(train_pipeline) + list(test_pipeline) +
                 list(cfg.val_dataloader.dataset.pipeline)):
        TRANSFORMS.build(copy.deepcopy(step))
    assert DATASETS.get(cfg.train_dataloader.dataset.type) is not None
    assert DATA_SAMPLERS.get(cfg.train_dataloader.sampler.type) is not None
    assert METRICS.get(cfg.val_evaluator.type) is not None
    assert METRICS.get(cfg.test_evaluator.type) is not None

    # optimizer wrapper and parameter schedulers
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    optimizer = optim_wrapper.optimizer
    assert type(optimizer).__name__ == 'SGD'
    assert optimizer.defaults['momentum'] == 0.9
    assert optimizer.defaults['weight_decay'] == 1e-4
    by_epoch_loop = cfg.train_cfg.type == 'ResumableEpochBasedTrainLoop'
    length = cfg.train_cfg.max_epochs if by_epoch_loop else \
        cfg.train_cfg.max_iters
    for sched in cfg.param_scheduler:
        PARAM_SCHEDULERS.build(
            copy.deepcopy(sched),
            default_args=dict(optimizer=optim_wrapper, epoch_length=10))
    warmup, decay = cfg.param_scheduler
    assert (warmup.type, warmup.by_epoch, warmup.begin) == ('LinearLR',
                                                            False, 0)
    assert (decay.type, decay.power, decay.eta_min) == ('PolyLR', 1.0, 0.0)
    # no `end`: mmengine ends the decay with the training loop
    assert 'end' not in decay and length > 0
    if by_epoch_loop:
        assert decay.by_epoch and decay.convert_to_iter_based
    else:
        assert not decay.by_epoch
    # epoch-based loops need a sampler that ends each epoch, iteration-based
    # ones an infinite one
    assert cfg.train_dataloader.sampler.infinite is not by_epoch_loop


@pytest.mark.parametrize('config', sorted(PAPER_CONFIGS))
def test_paper_hyper_parameters(config):
    """App. D / Sec. 4.1 values in the resolved paper configs."""
    hp, cabb, isus = PAPER_CONFIGS[config]
    cfg = _load(config)
    loader = cfg.train_dataloader
    pipeline = _innermost(loader.dataset).pipeline
    assert cfg.train_pipeline == pipeline
    # exact resume also inside an epoch: checkpoints counted in iterations
    assert cfg.train_cfg.type == 'ResumableEpochBasedTrainLoop'
    checkpoint = cfg.default_hooks.checkpoint
    assert (checkpoint.type, checkpoint.by_epoch, checkpoint.interval,
            checkpoint.final_epoch_file) == ('AtomicCheckpointHook', False,
                                             2000, True)
    assert cfg.default_hooks.resume_state.type == 'ResumeStateHook'

    resize = _step(pipeline, 'ISUSResize')
    assert resize.short_side == hp['s0']
    assert tuple(resize.stuff_range) == hp['r_st']
    assert resize.isus is isus
    if isus:
        extractor = cfg.model.roi_head.bbox_roi_extractor
        assert tuple(resize.thing_range) == (0.25, 4.0)
        # the model's own level rule, read from its RoI extractor
        assert resize.level_rule == extractor
        assert TRANSFORMS.build(copy.deepcopy(resize)).featmap_strides == \
            tuple(extractor.featmap_strides)
    crops = [s for s in pipeline if s['type'] == 'TruncationAwareRandomCrop']
    if hp['crop'] is None:
        assert not crops
    else:
        assert tuple(crops[0].crop_size) == hp['crop']
    assert _step(pipeline, 'PanopticRandomFlip').prob == 0.5
    assert loader.dataset.type == 'ClassUniformDataset'
    assert loader.sampler.type == 'ClassUniformSampler'

    # inference on full images, shortest side s0
    for test_loader in (cfg.val_dataloader, cfg.test_dataloader):
        steps = test_loader.dataset.pipeline
        assert [s['type'] for s in steps] == [
            'LoadImageFromFile', 'Resize', 'PackDetInputs']
        assert steps[1].keep_ratio and steps[1].scale[1] == hp['s0']
        assert steps[1].scale[0] >= 4 * hp['s0']

    losses = {cfg.model.rpn_head.loss_bbox.type,
              cfg.model.roi_head.bbox_head.loss_bbox.type}
    assert losses == ({'CABBLoss'} if cabb else {'SmoothL1Loss'})

    assert loader.batch_size == hp['imgs']
    assert cfg.optim_wrapper.optimizer.lr == hp['lr']
    assert cfg.train_cfg.max_epochs == hp['epochs']
    assert cfg.param_scheduler[0].end == 200
    assert cfg.auto_scale_lr == dict(enable=False,
                                     base_batch_size=8 * hp['imgs'])

    if config in CS_INIT:
        assert CS_INIT[config] in cfg.load_from
    else:
        assert cfg.load_from is None


@pytest.mark.parametrize('parent,child,kind', VARIANT_PAIRS,
                         ids=[f'{osp.basename(c)[:-3]}-vs-{k}'
                              for _, c, k in VARIANT_PAIRS])
def test_variant_differs_only_where_expected(parent, child, kind):
    a, b = _load(parent), _load(child)
    expected = set()
    if 'cabb' in kind:
        expected |= CABB_KEYS
        assert b.model.rpn_head.loss_bbox.type == 'CABBLoss'
        assert b.model.roi_head.bbox_head.loss_bbox.type == 'CABBLoss'
    if 'isus' in kind:
        expected |= _isus_keys(b)
        for path in TRAIN_PIPELINES:
            assert _step(_flatten_get(b, path), 'ISUSResize').isus is True
    if 'init' in kind:
        expected.add('load_from')
    if kind == 'full':
        assert b.s0 / a.s0 == 0.5625 == pytest.approx(1344 / 2400, abs=3e-3)
        assert b.optim_wrapper.optimizer.lr * 2 == a.optim_wrapper.optimizer.lr
        for path in TRAIN_PIPELINES:
            steps_a, steps_b = _flatten_get(a, path), _flatten_get(b, path)
            assert [
                dict(s, short_side=b.s0) if s['type'] == 'ISUSResize' else s
                for s in steps_a if s['type'] != 'TruncationAwareRandomCrop'
            ] == steps_b
        for path in TEST_PIPELINES:
            assert [
                dict(s, scale=(b.s0 * 8, b.s0)) if s['type'] == 'Resize' else s
                for s in _flatten_get(a, path)
            ] == _flatten_get(b, path)
        assert b.train_dataloader.batch_size == 1
        differing = {k for k in _differing_keys(a, b)
                     if not k.startswith(TRAIN_PIPELINES + TEST_PIPELINES)}
        assert differing == FULL_KEYS
        return
    assert _differing_keys(a, b) == expected
