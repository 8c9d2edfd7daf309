"""tools/analysis_tools/scale_stats.py: the Fig. 2 statistics and plots."""
from mmdet.utils import register_all_modules
from mmengine.config import Config
from tests import load_tool
from tests.datasets.cus_data import (dataset_cfg, train_pipeline,
                                     write_coco_panoptic)


def _write_cfg(cfg_path, data_root):
    """A config with a four-level RoI rule and a CUS loader over ``data_root``."""
    model = dict(
        roi_head=dict(
            bbox_roi_extractor=dict(
                finest_scale=8, featmap_strides=[4, 8, 16, 32])))
    train = dict(
        batch_size=1,
        sampler=dict(type='ClassUniformSampler'),
        dataset=dict(
            type='ClassUniformDataset',
            dataset=dataset_cfg(str(data_root), train_pipeline())))
    cfg_path.write_text(f'model = {model!r}\ntrain_dataloader = {train!r}\n')
    return cfg_path


def test_scale_stats_tool(tmp_path):
    register_all_modules()
    data_root = write_coco_panoptic(tmp_path / 'data')
    cfg_path = _write_cfg(tmp_path / 'cfg.py', data_root)
    tool = load_tool('analysis_tools', 'scale_stats')
    out = tmp_path / 'out'
    stats = tool.main([
        str(cfg_path), '--out',
        str(out), '--num-samples', '12', '--seed', '0'
    ])
    for name in ('crop_iou.png', 'scale_distribution.png', 'stats.json'):
        assert (out / name).is_file(), name
    assert set(stats) == {'as_is', 'cus', 'isus'}
    for mode in stats.values():
        assert len(mode['level_fractions']) == 4
        assert abs(sum(mode['level_fractions']) - 1) < 1e-6
        assert all(0 <= iou <= 1 for iou in mode['crop_ious'])


def test_scale_stats_cfg_options_override_the_config(tmp_path):
    register_all_modules()
    data_root = write_coco_panoptic(tmp_path / 'data')
    cfg_path = _write_cfg(tmp_path / 'cfg.py', '/nonexistent/')
    tool = load_tool('analysis_tools', 'scale_stats')
    stats = tool.main([
        str(cfg_path), '--out',
        str(tmp_path / 'out'), '--num-samples', '4', '--cfg-options',
        f'train_dataloader.dataset.dataset.data_root={data_root}',
        'model.roi_head.bbox_roi_extractor.featmap_strides=[4,8,16]'
    ])
    # the overridden level rule has three levels
    assert all(len(mode['level_fractions']) == 3 for mode in stats.values())


def test_scale_stats_level_rule_sources():
    tool = load_tool('analysis_tools', 'scale_stats')
    isus = dict(
        type='ISUSResize',
        level_rule=dict(finest_scale=8, featmap_strides=[4, 8, 16]))
    from_pipeline = Config(
        dict(train_dataloader=dict(dataset=dict(pipeline=[isus]))))
    assert tool.level_rule(from_pipeline) == (8.0, 3)
    from_model = Config(
        dict(
            model=dict(
                roi_head=dict(
                    bbox_roi_extractor=dict(
                        finest_scale=16, featmap_strides=[4, 8]))),
            train_dataloader=dict(dataset=dict(pipeline=[isus]))))
    assert tool.level_rule(from_model) == (16.0, 2)
    defaults = Config(dict(train_dataloader=dict(dataset=dict(pipeline=[]))))
    assert tool.level_rule(defaults) == (56.0, 4)
