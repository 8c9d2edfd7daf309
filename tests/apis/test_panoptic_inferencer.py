"""PanopticInferencer on generated images with a slim random-weight model:
written PNG/JSON, overlays, and the errors of bad input."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from mmpanoptic_cabb.apis import (PanopticInferencer, inference_panoptic,
                                  init_panoptic_model)
from mmpanoptic_cabb.datasets.categories import SYNTHETIC_CATEGORIES
from mmpanoptic_cabb.structures.panoptic_png import read_panoptic_png
from mmpanoptic_cabb.utils.errors import ToolInputError
from tests import REPO_ROOT

CONFIG_NAME = 'seamless_hrnet-slim_crop-256_1200i_synthetic'
CONFIG = osp.join(REPO_ROOT, 'configs', 'synthetic', CONFIG_NAME + '.py')
H, W = 64, 128
#: see tests/apis/test_inference.py: few detections, all fused, small input
CFG_OPTIONS = {
    'model.test_cfg.rcnn.max_per_img': 8,
    'model.test_cfg.panoptic.score_thr': 0.0,
}


def _shrink_test_resize(cfg) -> None:
    for step in cfg.test_dataloader.dataset.pipeline:
        if step['type'] == 'Resize':
            step['scale'] = (128 * 8, 128)


@pytest.fixture(scope='module')
def gt_json(tmp_path_factory):
    """A COCO panoptic JSON with the synthetic categories (non-contiguous
    ids), for the category ids of the written JSON."""
    path = tmp_path_factory.mktemp('gt') / 'panoptic_val.json'
    path.write_text(json.dumps(dict(
        images=[], annotations=[],
        categories=[dict(id=c['id'], name=c['name'], isthing=c['isthing'])
                    for c in SYNTHETIC_CATEGORIES])))
    return str(path)


@pytest.fixture(scope='module')
def inferencer(gt_json):
    from mmengine.config import Config
    torch.manual_seed(0)
    cfg = Config.fromfile(CONFIG)
    _shrink_test_resize(cfg)
    return PanopticInferencer(
        cfg, device='cpu', show_progress=False,
        cfg_options=dict(CFG_OPTIONS, **{'test_evaluator.ann_file': gt_json}))


@pytest.fixture(scope='module')
def images(tmp_path_factory):
    folder = tmp_path_factory.mktemp('images')
    rng = np.random.default_rng(0)
    arrays = []
    for k in range(2):
        img = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
        img[H // 2:] = (128, 64, 128)
        assert cv2.imwrite(str(folder / f'img_{k}.png'), img)
        arrays.append(img)
    (folder / 'notes.txt').write_text('not an image')
    return str(folder), arrays


def _check_written(out_dir: str, names, shape):
    with open(osp.join(out_dir, 'panoptic.json')) as f:
        coco = json.load(f)
    assert [c['id'] for c in coco['categories']] == [
        c['id'] for c in SYNTHETIC_CATEGORIES]
    assert [c['isthing'] for c in coco['categories']] == [1, 1, 1, 0, 0, 0, 0]
    assert [a['file_name'] for a in coco['annotations']] == [
        n + '.png' for n in names]
    cat_ids = {c['id'] for c in coco['categories']}
    for ann in coco['annotations']:
        ids = read_panoptic_png(osp.join(out_dir, 'panoptic',
                                         ann['file_name']))
        assert ids.shape == shape
        segs = ann['segments_info']
        assert segs, 'a random model still predicts stuff somewhere'
        assert [s['id'] for s in segs] == list(range(1, len(segs) + 1))
        assert set(np.unique(ids).tolist()) - {0} == {s['id'] for s in segs}
        for seg in segs:
            mask = ids == seg['id']
            assert seg['area'] == int(mask.sum())
            ys, xs = np.nonzero(mask)
            assert seg['bbox'] == [int(xs.min()), int(ys.min()),
                                   int(xs.max() - xs.min() + 1),
                                   int(ys.max() - ys.min() + 1)]
            assert seg['category_id'] in cat_ids
            thing = seg['category_id'] in (11, 13, 17)
            assert seg['isthing'] == int(thing)
    with open(osp.join(out_dir, 'instances.json')) as f:
        instances = json.load(f)
    assert sorted(instances) == sorted(names)
    for inst in instances.values():
        assert len(inst['bboxes']) == len(inst['scores']) == len(
            inst['category_ids'])
        assert set(inst['category_ids']) <= {11, 13, 17}
    for name in names:
        vis = cv2.imread(osp.join(out_dir, 'vis', name + '.png'))
        assert vis is not None and vis.shape[:2] == shape


def test_folder_writes_coco_panoptic_and_overlays(inferencer, images,
                                                  tmp_path):
    folder, _ = images
    out = str(tmp_path / 'out')
    result = inferencer(folder, out_dir=out, batch_size=2)
    preds = result['predictions']
    assert [p['name'] for p in preds] == ['img_0', 'img_1']
    assert [p['img_path'] for p in preds] == [
        osp.join(folder, 'img_0.png'), osp.join(folder, 'img_1.png')]
    _check_written(out, ['img_0', 'img_1'], (H, W))
    # the returned map is the written one
    written = read_panoptic_png(osp.join(out, 'panoptic', 'img_0.png'))
    assert np.array_equal(preds[0]['panoptic_seg'], written)


def test_array_prediction_matches_inference_panoptic(inferencer, images,
                                                     tmp_path):
    _, arrays = images
    result = inferencer(arrays[0], out_dir=str(tmp_path), return_vis=True,
                        return_datasamples=True)
    sample = result['predictions'][0]
    reference = inference_panoptic(inferencer.model, arrays[0])
    assert torch.equal(sample.pred_panoptic_seg.sem_seg,
                       reference.pred_panoptic_seg.sem_seg)
    vis = result['visualization'][0]
    assert vis.shape == (H, W, 3) and not np.array_equal(
        vis, arrays[0][..., ::-1])
    _check_written(str(tmp_path), ['00000000'], (H, W))


def test_config_name_resolves_under_configs():
    from mmpanoptic_cabb.apis.inference import resolve_config
    assert osp.samefile(resolve_config(CONFIG_NAME), CONFIG)
    assert osp.samefile(resolve_config(CONFIG_NAME + '.py'), CONFIG)


# ------------------------------------------------------------------ errors
def test_missing_config_is_named():
    with pytest.raises(ToolInputError, match='no/such_config.py'):
        PanopticInferencer('no/such_config.py')
    with pytest.raises(ToolInputError, match='does not exist'):
        init_panoptic_model('no_such_config_name')


def test_checkpoint_of_another_class_count_names_both_counts(
        inferencer, tmp_path):
    state = {k: v.clone() for k, v in inferencer.model.state_dict().items()}
    for key in list(state):
        if key.startswith('semantic_head.') and key.endswith(
                'conv_seg.weight'):
            state[key] = state[key][:5]
            bias = key[:-len('weight')] + 'bias'
            if bias in state:
                state[bias] = state[bias][:5]
    path = str(tmp_path / 'five_classes.pth')
    torch.save(dict(state_dict=state, meta=dict(dataset_meta=dict(
        classes=['a', 'b', 'c', 'd', 'e']))), path)
    with pytest.raises(ToolInputError) as err:
        init_panoptic_model(CONFIG, path)
    message = str(err.value)
    assert 'five_classes.pth' in message
    assert '5 classes' in message and '7 classes' in message


def test_unreadable_image_is_named(inferencer, tmp_path):
    bad = tmp_path / 'broken.jpg'
    bad.write_bytes(b'this is not a JPEG')
    with pytest.raises(ToolInputError, match='broken.jpg'):
        inferencer(str(bad), out_dir=str(tmp_path / 'out'))
    with pytest.raises(ToolInputError, match='missing.png'):
        inferencer(str(tmp_path / 'missing.png'))
    with pytest.raises(ToolInputError, match='broken.jpg'):
        inference_panoptic(inferencer.model, str(bad))


def test_unreadable_image_keeps_what_was_written(inferencer, images,
                                                 tmp_path):
    folder, _ = images
    bad = tmp_path / 'zz_broken.png'
    bad.write_bytes(b'garbage')
    out = str(tmp_path / 'out')
    with pytest.raises(ToolInputError, match='zz_broken.png'):
        inferencer([osp.join(folder, 'img_0.png'), str(bad)], out_dir=out)
    _check_written(out, ['img_0'], (H, W))


def test_output_folder_not_writable(inferencer, images, tmp_path):
    _, arrays = images
    blocker = tmp_path / 'a_file'
    blocker.write_text('')
    target = str(blocker / 'out')
    with pytest.raises(ToolInputError, match='not writable') as err:
        inferencer(arrays[0], out_dir=target)
    assert target in str(err.value)
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / 'locked'
        locked.mkdir(mode=0o500)
        with pytest.raises(ToolInputError, match='not writable'):
            inferencer(arrays[0], out_dir=str(locked))


def test_folder_without_images_is_named(inferencer, tmp_path):
    with pytest.raises(ToolInputError, match='holds no image'):
        inferencer(str(tmp_path))


def test_demo_cli_on_a_folder(images, gt_json, tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        '_image_demo', osp.join(REPO_ROOT, 'demo', 'image_demo.py'))
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    folder, _ = images
    out = str(tmp_path / 'demo')
    options = [f'{k}={v}' for k, v in CFG_OPTIONS.items()] + [
        f'test_evaluator.ann_file={gt_json}',
        # the test Resize (step 1) at a shortest side of 128
        'test_dataloader.dataset.pipeline.1.scale=(1024,128)'
    ]
    torch.manual_seed(0)
    result = demo.main([folder, CONFIG_NAME, '--out-dir', out,
                        '--cfg-options', *options])
    assert [p['name'] for p in result['predictions']] == ['img_0', 'img_1']
    _check_written(out, ['img_0', 'img_1'], (H, W))
    single = str(tmp_path / 'one.png')
    demo.main([osp.join(folder, 'img_1.png'), CONFIG_NAME, '--out-file',
               single, '--cfg-options', *options])
    drawn = cv2.imread(single)
    assert drawn is not None and drawn.shape[:2] == (H, W)
