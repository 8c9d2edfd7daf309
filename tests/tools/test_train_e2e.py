"""End to end on a tiny generated dataset: train + eval, resume, distributed gloo training."""
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import pytest
import torch
from mmengine.runner import Runner

from .tiny_config import REPO_ROOT, SYNTHETIC_VARIANTS, make_tiny_cfg

pytestmark = pytest.mark.slow


def _state(model: torch.nn.Module) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_train_two_iterations_and_evaluate(tiny_synthetic_root, tmp_path):
    cfg = make_tiny_cfg(tiny_synthetic_root, str(tmp_path / 'work'))
    runner = Runner.from_cfg(cfg)
    before = _state(runner.model)
    runner.train()
    assert runner.iter == 2
    after = runner.model.state_dict()
    changed = [k for k, v in before.items()
               if v.dtype.is_floating_point and not torch.equal(v, after[k])]
    assert changed, 'no parameter changed after two iterations'
    assert osp.isfile(tmp_path / 'work' / 'iter_2.pth')
    metrics = runner.val_loop.run()
    for key in ('PQ', 'PQ_th', 'PQ_st'):
        name = next(k for k in metrics if k.endswith('/' + key) or k == key)
        assert 0.0 <= metrics[name] <= 100.0

    # tools/test.py writes a COCO panoptic submission; the demo draws a PNG.
    cfg_path = tmp_path / 'tiny.py'
    cfg.dump(str(cfg_path))
    ckpt = str(tmp_path / 'work' / 'iter_2.pth')
    prefix = tmp_path / 'submission' / 'val'
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    proc = subprocess.run(
        [sys.executable, osp.join(REPO_ROOT, 'tools', 'test.py'),
         str(cfg_path), ckpt, '--work-dir', str(tmp_path / 'test'),
         '--panoptic-out', str(prefix), '--show-dir', 'vis'],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    with open(str(prefix) + '.panoptic.json') as f:
        submission = json.load(f)
    assert len(submission['annotations']) == 3
    # --show-dir: PanopticVisualizer draws every val image (under its own file name)
    drawn_files = [
        osp.join(root, name) for root, _, names in os.walk(tmp_path / 'test')
        if osp.basename(root) == 'vis' for name in names
    ]
    assert len(drawn_files) == 3, drawn_files
    for path in drawn_files:
        drawn = cv2.imread(path)
        # ground truth and prediction side by side, each 512 x 256 plus margins
        assert drawn is not None and drawn.shape[0] >= 256, path
        assert drawn.shape[1] > 2 * 512, (path, drawn.shape)
    for ann in submission['annotations']:
        assert osp.isfile(osp.join(str(prefix) + '.panoptic', ann['file_name']))
    image = sorted(os.listdir(osp.join(tiny_synthetic_root, 'images', 'val')))[0]
    out_png = tmp_path / 'demo.png'
    proc = subprocess.run(
        [sys.executable, osp.join(REPO_ROOT, 'demo', 'image_demo.py'),
         osp.join(tiny_synthetic_root, 'images', 'val', image), str(cfg_path),
         ckpt, '--out-file', str(out_png)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    drawn = cv2.imread(str(out_png))
    assert drawn is not None and drawn.shape[:2] == (256, 512)


@pytest.mark.parametrize('config', SYNTHETIC_VARIANTS,
                         ids=[osp.basename(c)[:-3] for c in SYNTHETIC_VARIANTS])
def test_synthetic_variants_train(config, tiny_synthetic_root, tmp_path):
    """CROP+CABB, CROP+ISUS, CROP+CABB+ISUS and FULL train end to end (2 iterations)."""
    cfg = make_tiny_cfg(tiny_synthetic_root, str(tmp_path / 'work'),
                        max_iters=2, config=config, with_val=False)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    scalars = runner.message_hub.log_scalars
    for key in ('train/loss_rpn_bbox', 'train/loss_bbox', 'train/loss_seg'):
        value = scalars[key].current()
        assert value == value and abs(value) < 1e4, (key, value)


def test_resume_restores_iteration_and_weights(tiny_synthetic_root, tmp_path):
    work = str(tmp_path / 'work')
    cfg = make_tiny_cfg(tiny_synthetic_root, work, max_iters=2,
                        with_val=False)
    runner = Runner.from_cfg(cfg)
    runner.train()
    saved = _state(runner.model)
    ckpt = osp.join(work, 'iter_2.pth')
    assert osp.isfile(ckpt)

    # Resume into a 3-iteration schedule: the counter continues from 2, weights come back.
    cfg2 = make_tiny_cfg(tiny_synthetic_root, work, max_iters=3,
                         with_val=False)
    cfg2.resume = True
    cfg2.load_from = ckpt
    runner2 = Runner.from_cfg(cfg2)
    runner2._train_loop = runner2.build_train_loop(runner2._train_loop)
    runner2.load_or_resume()
    assert runner2.iter == 2
    restored = runner2.model.state_dict()
    for key, value in saved.items():
        assert torch.equal(restored[key], value), key
    optim_state = runner2.optim_wrapper.optimizer.state_dict()['state']
    assert optim_state, 'optimizer momentum was not restored'
    runner2.train()
    assert runner2.iter == 3


def test_load_from_keeps_counter_at_zero(tiny_synthetic_root, tmp_path):
    work = str(tmp_path / 'work')
    cfg = make_tiny_cfg(tiny_synthetic_root, work, max_iters=1,
                        with_val=False)
    Runner.from_cfg(cfg).train()
    cfg2 = make_tiny_cfg(tiny_synthetic_root, str(tmp_path / 'ft'),
                         max_iters=1, with_val=False)
    cfg2.load_from = osp.join(work, 'iter_1.pth')
    runner = Runner.from_cfg(cfg2)
    runner._train_loop = runner.build_train_loop(runner._train_loop)
    runner.load_or_resume()
    assert runner.iter == 0


@pytest.mark.skipif(not hasattr(torch.distributed, 'is_gloo_available')
                    or not torch.distributed.is_gloo_available(),
                    reason='torch built without gloo')
def test_distributed_gloo_two_processes(tiny_synthetic_root, tmp_path):
    work = tmp_path / 'dist'
    cfg = make_tiny_cfg(tiny_synthetic_root, str(work), max_iters=2,
                        with_val=False)
    cfg_path = tmp_path / 'tiny_dist.py'
    cfg.dump(str(cfg_path))
    env = dict(os.environ, OMP_NUM_THREADS='1', PORT='29517')
    # tools/dist_train.sh runs `python -m torch.distributed.run`: put this
    # interpreter first on PATH.
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env['PATH']
    proc = subprocess.run(
        ['bash', osp.join(REPO_ROOT, 'tools', 'dist_train.sh'),
         str(cfg_path), '2', '--work-dir', str(work)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    assert 'gloo' in log
    assert osp.isfile(work / 'iter_2.pth'), log[-2000:]
    ckpt = torch.load(str(work / 'iter_2.pth'), map_location='cpu',
                      weights_only=False)
    assert ckpt['meta']['iter'] == 2
    # mmengine's environment log records the world size as the 'GPU number'.
    assert 'Distributed training: True' in log and 'GPU number: 2' in log
