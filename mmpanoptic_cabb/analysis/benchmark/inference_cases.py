"""Full-resolution prediction cases of
``tools/analysis_tools/benchmark_inference.py``.

The slim model (``configs/_base_/models/seamless_hrnet-slim_fpn_dlv3plus.py``)
or the paper-size Mapillary Vistas model (``seamless_hrnetv2-w48_fpn_dlv3plus
.py``: HRNetV2-W48, 37 + 28 classes) with random weights (torch seed 0, no
ImageNet download) and every detection kept predicts one generated image
through the MVD test pipeline (shortest side ``s0``), on the ``old`` path
(``test_cfg.panoptic.bounded_memory=False``: logits of all classes and an
(N, H, W) mask stack at the original size) or the ``new`` one
(``bounded_memory=True``).
"""
import os
import os.path as osp
import time
from typing import Dict, Optional

import numpy as np

from .process import peak_rss_mib, registered_scope

REPO_ROOT = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
MODEL_CONFIGS = {
    'slim':
    osp.join(REPO_ROOT, 'configs', '_base_', 'models',
             'seamless_hrnet-slim_fpn_dlv3plus.py'),
    'paper':
    osp.join(REPO_ROOT, 'configs', '_base_', 'models',
             'seamless_hrnetv2-w48_fpn_dlv3plus.py'),
}
#: The config whose test pipeline is used (its Resize scale set by ``s0``).
TEST_PIPELINE_CONFIG = osp.join(
    REPO_ROOT, 'configs', 'seamless',
    'seamless_hrnetv2-w48_crop-1024_8xb4-300e_mapillary-vistas.py')
PATHS = {'old': False, 'new': True}  # bounded_memory


def build_model(model: str, bounded: bool, score_thr: float):
    """The model with random weights, every detection kept."""
    import torch
    from mmengine.config import Config

    from mmdet.registry import MODELS
    registered_scope()
    cfg = Config.fromfile(MODEL_CONFIGS[model]).model
    cfg.backbone.init_cfg = None
    cfg.test_cfg.rcnn.score_thr = score_thr
    cfg.test_cfg.panoptic.score_thr = score_thr
    cfg.test_cfg.panoptic.bounded_memory = bounded
    torch.manual_seed(0)
    net = MODELS.build(cfg)
    net.init_weights()
    return net.eval()


def mvd_test_pipeline(s0: int):
    """The MVD test pipeline with its Resize at shortest side ``s0``."""
    from mmcv.transforms import Compose
    from mmengine.config import Config
    steps = Config.fromfile(TEST_PIPELINE_CONFIG).test_pipeline
    for step in steps:
        if step['type'] == 'Resize':
            step['scale'] = (s0 * 8, s0)
    return Compose(steps)


def run_case(model: str,
             image: str,
             path: str,
             s0: int,
             score_thr: float,
             threads: Optional[int] = None,
             out: Optional[str] = None) -> Dict:
    """One prediction in this process; returns its measurements.

    With ``threads`` torch uses that many threads (and one thread pins the
    process to one core: meant for the benchmark's subprocesses). With
    ``out`` the panoptic and semantic maps are saved there (npz).
    """
    import torch
    from mmengine.dataset import pseudo_collate
    if threads is not None:
        torch.set_num_threads(threads)
        if hasattr(os, 'sched_setaffinity') and threads == 1:
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    net = build_model(model, PATHS[path], score_thr)
    data = mvd_test_pipeline(s0)(dict(img_path=image, img_id=0))
    with torch.no_grad():
        batch = net.data_preprocessor(pseudo_collate([data]), False)
        rss_before = peak_rss_mib()
        start, cpu_start = time.perf_counter(), time.process_time()
        result = net.predict(batch['inputs'], batch['data_samples'])[0]
        seconds = time.perf_counter() - start
        cpu_seconds = time.process_time() - cpu_start
    rss = peak_rss_mib()
    pan = result.pred_panoptic_seg.sem_seg[0].numpy()
    sem = result.pred_sem_seg.sem_seg[0].numpy()
    if out is not None:
        np.savez_compressed(out, pan=pan, sem=sem)
    return dict(
        model=model,
        path=path,
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        peak_rss_mib=rss,
        rss_before_predict_mib=rss_before,
        detections=len(result.pred_instances),
        segments=int(len(np.unique(pan))),
        input_shape=list(result.metainfo['img_shape'][:2]),
        output_shape=list(pan.shape))


def generate_image(out_dir: str, megapixels: float, instances: int) -> str:
    """A Mapillary-Vistas-like 4:3 JPEG of ``megapixels`` (its path)."""
    import json

    from .samples import generate_sample
    info = generate_sample(
        out_dir, megapixels, instances, dataset='mapillary_vistas',
        name=f'image_{megapixels:g}mp')
    with open(info) as f:
        return json.load(f)['img_path']


def compare(old: str, new: str) -> Dict:
    """Pixels where two saved predictions differ."""
    a, b = np.load(old), np.load(new)
    return dict(
        panoptic_diff_pixels=int((a['pan'] != b['pan']).sum()),
        semantic_diff_pixels=int((a['sem'] != b['sem']).sum()))
