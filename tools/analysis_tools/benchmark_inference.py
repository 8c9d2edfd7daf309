"""Peak memory and seconds of full-resolution prediction, old vs new path.

Builds the slim model (``configs/_base_/models/
seamless_hrnet-slim_fpn_dlv3plus.py``) and the paper-size Mapillary Vistas
model (``seamless_hrnetv2-w48_fpn_dlv3plus.py``: HRNetV2-W48, 37 + 28
classes) with random weights (torch seed 0, no ImageNet download), every
detection kept (RoI head and fusion score thresholds ``--score-thr``, 0 by
default) and, in a fresh subprocess per case, predicts one generated
Mapillary-Vistas-like image of each ``--megapixels`` (4:3) through the MVD
test pipeline (shortest side ``--s0`` = 2400, predictions at the original
size), on CPU with ``--threads`` threads:

- ``old``: ``test_cfg.panoptic.bounded_memory=False``: semantic logits of
  all classes and an (N, H, W) mask stack at the original size;
- ``new``: ``bounded_memory=True``: logits kept at the head's stride and
  arg-maxed a few classes at a time, masks pasted one at a time (COCO RLEs
  in ``pred_instances``).

Reported per case: seconds of ``predict`` (the data preprocessor excluded),
peak RSS of the process (``ru_maxrss``) and the RSS before ``predict``
(model and image), detections; per model and size, the pixels where the
panoptic maps (and semantic maps) of the two paths differ.

Example::

    python tools/analysis_tools/benchmark_inference.py --megapixels 8 12 \\
        --models slim paper
"""
import argparse
import json
import os
import os.path as osp
import resource
import subprocess
import sys
import tempfile
import time
from typing import Dict, Optional, Sequence

import numpy as np

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MODEL_CONFIGS = {
    'slim':
    osp.join(REPO_ROOT, 'configs', '_base_', 'models',
             'seamless_hrnet-slim_fpn_dlv3plus.py'),
    'paper':
    osp.join(REPO_ROOT, 'configs', '_base_', 'models',
             'seamless_hrnetv2-w48_fpn_dlv3plus.py'),
}
#: The config whose test pipeline is used (its Resize scale set by --s0).
TEST_PIPELINE_CONFIG = osp.join(
    REPO_ROOT, 'configs', 'seamless',
    'seamless_hrnetv2-w48_crop-1024_8xb4-300e_mapillary-vistas.py')
PATHS = {'old': False, 'new': True}  # bounded_memory


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark full-resolution predict, old vs new path')
    parser.add_argument(
        '--megapixels', type=float, nargs='+', default=[8.0, 12.0])
    parser.add_argument(
        '--models',
        nargs='+',
        default=['slim', 'paper'],
        choices=sorted(MODEL_CONFIGS))
    parser.add_argument(
        '--paths', nargs='+', default=list(PATHS), choices=list(PATHS))
    parser.add_argument(
        '--s0',
        type=int,
        default=2400,
        help='shortest side of the network input')
    parser.add_argument('--score-thr', type=float, default=0.0)
    parser.add_argument(
        '--instances',
        type=int,
        default=150,
        help='things drawn in the generated image')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--work-dir', help='where images and maps go')
    parser.add_argument(
        '--run',
        nargs=3,
        metavar=('MODEL', 'IMAGE', 'PATH'),
        help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def peak_rss_mib() -> float:
    """Peak resident set size of this process in MiB (Linux: KiB units)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_model(model: str, bounded: bool, score_thr: float):
    """The model with random weights, every detection kept."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mmpanoptic_cabb  # noqa: F401
    from mmdet.registry import MODELS
    init_default_scope('mmdet')
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
    """A Mapillary-Vistas-like JPEG of ``megapixels`` (its path)."""
    from mmpanoptic_cabb.data_preparation.synthetic.benchmark_sample import \
        write_benchmark_sample
    from mmpanoptic_cabb.datasets import MapillaryVistasPanopticDataset
    meta = MapillaryVistasPanopticDataset.METAINFO
    num_things = len(meta['thing_classes'])
    info = write_benchmark_sample(
        out_dir,
        megapixels,
        instances,
        thing_labels=tuple(range(num_things)),
        stuff_labels=tuple(range(num_things, len(meta['classes']))),
        name=f'image_{megapixels:g}mp')
    with open(info) as f:
        return json.load(f)['img_path']


def compare(old: str, new: str) -> Dict:
    """Pixels where two saved predictions differ."""
    a, b = np.load(old), np.load(new)
    return dict(
        panoptic_diff_pixels=int((a['pan'] != b['pan']).sum()),
        semantic_diff_pixels=int((a['sem'] != b['sem']).sum()))


def main(argv: Optional[Sequence[str]] = None) -> Dict:
    """Generate the images and run every case in a fresh subprocess."""
    args = parse_args(argv)
    work_dir = args.work_dir or tempfile.mkdtemp(prefix='bench_inference_')
    os.makedirs(work_dir, exist_ok=True)
    if args.run:
        model, image, path = args.run
        out = osp.join(work_dir, f'{model}_{osp.basename(image)}_{path}.npz')
        print(
            json.dumps(
                run_case(model, image, path, args.s0, args.score_thr,
                         args.threads, out)))
        return {}
    env = dict(os.environ)
    if args.threads == 1:
        env.update(
            OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', OPENBLAS_NUM_THREADS='1')
    reports = {}
    print(f'predict on CPU, {args.threads} thread(s), s0 {args.s0}, score '
          f'threshold {args.score_thr}, random weights')
    print(f'{"model":<7}{"MP":>6}{"path":>6}{"seconds":>10}{"cpu s":>10}'
          f'{"peak RSS MiB":>14}{"RSS before":>12}{"dets":>6}'
          f'{"input":>11}')
    for megapixels in args.megapixels:
        image = generate_image(work_dir, megapixels, args.instances)
        for model in args.models:
            for path in args.paths:
                cmd = [
                    sys.executable,
                    osp.abspath(__file__), '--run', model, image, path, '--s0',
                    str(args.s0), '--score-thr',
                    str(args.score_thr), '--threads',
                    str(args.threads), '--work-dir', work_dir
                ]
                out = subprocess.run(
                    cmd, env=env, check=True, capture_output=True,
                    text=True).stdout
                r = json.loads(out.strip().splitlines()[-1])
                reports[model, megapixels, path] = r
                print(f'{model:<7}{megapixels:>6g}{path:>6}'
                      f'{r["seconds"]:>10.2f}{r["cpu_seconds"]:>10.2f}'
                      f'{r["peak_rss_mib"]:>14.0f}'
                      f'{r["rss_before_predict_mib"]:>12.0f}'
                      f'{r["detections"]:>6}'
                      f'{"x".join(map(str, r["input_shape"])):>11}')
            if set(PATHS) <= set(args.paths):
                name = f'{model}_{osp.basename(image)}'
                diff = compare(
                    osp.join(work_dir, f'{name}_old.npz'),
                    osp.join(work_dir, f'{name}_new.npz'))
                reports[model, megapixels, 'diff'] = diff
                print(f'{model:<7}{megapixels:>6g}  old vs new: '
                      f'{diff["panoptic_diff_pixels"]} panoptic and '
                      f'{diff["semantic_diff_pixels"]} semantic pixels '
                      'differ')
    return reports


if __name__ == '__main__':
    main()
