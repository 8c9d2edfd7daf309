"""Time and peak memory of one high-resolution training sample, two ways.

Generates a high-resolution panoptic sample (default 8.8 MP, 100 thing
instances plus stuff, void and a crowd region; a JPEG image and a COCO
panoptic PNG) and runs, each in a fresh subprocess pinned to one CPU core:

- ``lean``: ``LoadImageFromFile`` + ``LoadPanopticAnnotationsLean`` +
  ``ISUSResize`` (fixed factor ``--scale``) + ``TruncationAwareRandomCrop`` +
  ``InstMapToMasks``;
- ``mmdet``: ``LoadImageFromFile`` + mmdet's ``LoadPanopticAnnotations`` (+
  ``Resize`` when ``--scale`` is not 1) + ``RandomCrop(recompute_bbox)``.

Each subprocess runs the pipeline ``--repeats`` times and reports the median
wall-clock and CPU (``process_time``) seconds per sample, and its peak RSS
(``ru_maxrss``), also after the imports alone (on a busy machine the CPU
time is the steadier figure). mmdet's loader needs panopticapi's
``rgb2id``; when panopticapi is not installed this package's
:func:`~mmpanoptic_cabb.structures.panoptic_png.rgb2id` stands in for it.

Example::

    python tools/analysis_tools/benchmark_pipeline.py --megapixels 8.8 \\
        --instances 100 --crop 1024
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

THING_LABELS, STUFF_LABELS = (0, 1, 2), (3, 4, 5, 6)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark lean vs mmdet panoptic loading + crop')
    parser.add_argument('--megapixels', type=float, default=8.8)
    parser.add_argument('--instances', type=int, default=100)
    parser.add_argument('--crop', type=int, default=1024, help='crop side')
    parser.add_argument(
        '--scale',
        type=float,
        default=1.0,
        help='fixed resize factor applied before the crop')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--work-dir', help='where the sample is written')
    parser.add_argument(
        '--paths',
        nargs='+',
        default=['lean', 'mmdet'],
        choices=['lean', 'mmdet'])
    parser.add_argument(
        '--run-path', choices=['lean', 'mmdet'], help=argparse.SUPPRESS)
    parser.add_argument('--sample', help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def generate_sample(out_dir: str,
                    megapixels: float,
                    num_instances: int,
                    seed: int = 0) -> str:
    """Write a 4:3 panoptic sample; returns the path of its data info JSON.

    Stuff bands (4 classes), exactly ``num_instances`` visible things
    (rectangles and ellipses with log-uniform sizes, drawn large to small so
    that later ones occlude earlier ones), one crowd region and some void
    pixels.
    """
    import cv2

    from mmpanoptic_cabb.structures.panoptic_png import (MAX_PANOPTIC_ID,
                                                         write_panoptic_png)
    rng = np.random.default_rng(seed)
    w = int(round(np.sqrt(megapixels * 1e6 * 4 / 3)))
    h = int(round(megapixels * 1e6 / w))
    pan = np.zeros((h, w), dtype=np.int32)
    segments = []  # (id, label, is_thing, iscrowd)
    bounds = np.linspace(0, h, len(STUFF_LABELS) + 1).astype(int)
    for k, label in enumerate(STUFF_LABELS):
        sid = 1 + k
        pan[bounds[k]:bounds[k + 1]] = sid
        segments.append((sid, label, False, False))
    pan[:h // 50, :w // 50] = 0  # void
    used = {s[0] for s in segments}

    def new_id() -> int:
        sid = int(rng.integers(256, MAX_PANOPTIC_ID + 1))
        while sid in used:
            sid = int(rng.integers(256, MAX_PANOPTIC_ID + 1))
        used.add(sid)
        return sid

    def draw(sid: int, side: float, ellipse: bool) -> None:
        hh = max(2, int(side * rng.uniform(0.5, 1.5)))
        ww = max(2, int(side * rng.uniform(0.5, 1.5)))
        y, x = int(rng.integers(0, h - hh)), int(rng.integers(0, w - ww))
        if ellipse:
            cv2.ellipse(pan, (x + ww // 2, y + hh // 2),
                        (max(ww // 2, 1), max(hh // 2, 1)), 0, 0, 360,
                        int(sid), -1)
        else:
            pan[y:y + hh, x:x + ww] = sid

    crowd = new_id()  # a crowd region under everything else
    draw(crowd, min(h, w) / 6, False)
    segments.append((crowd, THING_LABELS[0], False, True))
    # log-uniform sizes, drawn large to small so that few are hidden
    sides = np.sort(
        np.exp(rng.uniform(np.log(8), np.log(min(h, w) / 3),
                           num_instances)))[::-1]
    things = []
    for k, side in enumerate(sides):
        things.append(new_id())
        draw(things[-1], side, bool(k % 2))
    visible = set(np.unique(pan).tolist())
    while len(visible.intersection(things)) < num_instances:
        for _ in range(num_instances - len(visible.intersection(things))):
            things.append(new_id())
            draw(things[-1], float(rng.uniform(8, 40)), False)
        visible = set(np.unique(pan).tolist())
    for k, sid in enumerate(things):
        if sid in visible:
            segments.append((sid, THING_LABELS[k % 3], True, False))

    seg_path = osp.join(out_dir, 'panoptic.png')
    write_panoptic_png(seg_path, pan)
    palette = rng.integers(0, 255, (len(segments) + 1, 3), dtype=np.uint8)
    lut = {sid: i + 1 for i, (sid, *_) in enumerate(segments)}
    index = np.zeros(pan.shape, dtype=np.int32)
    for sid, i in lut.items():
        index[pan == sid] = i
    img = palette[index]
    img = cv2.add(img, rng.integers(0, 20, img.shape, dtype=np.uint8))
    img_path = osp.join(out_dir, 'image.jpg')
    cv2.imwrite(img_path, img, [cv2.IMWRITE_JPEG_QUALITY, 90])

    instances, segments_info = [], []
    for (sid, label, is_thing, crowd), i in zip(segments, range(1, 10**9)):
        rows = np.flatnonzero((index == i).any(axis=1))
        if rows.size == 0:
            continue
        cols = np.flatnonzero((index[rows[0]:rows[-1] + 1] == i).any(axis=0))
        box = [
            float(cols[0]),
            float(rows[0]),
            float(cols[-1] + 1),
            float(rows[-1] + 1)
        ]
        if is_thing:
            instances.append(dict(bbox=box, bbox_label=label, ignore_flag=0))
        segments_info.append(
            dict(id=sid, category=label, is_thing=is_thing, iscrowd=crowd))
    info = dict(
        img_path=img_path,
        seg_map_path=seg_path,
        height=h,
        width=w,
        img_id=0,
        instances=instances,
        segments_info=segments_info)
    info_path = osp.join(out_dir, 'data_info.json')
    with open(info_path, 'w') as f:
        json.dump(info, f)
    return info_path


def build_pipeline(path: str, crop: int, scale: float) -> list:
    """The transforms of one path."""
    from mmcv.transforms import LoadImageFromFile

    from mmdet.datasets.transforms import RandomCrop, Resize
    from mmpanoptic_cabb.datasets.transforms import (
        InstMapToMasks, ISUSResize, LoadPanopticAnnotationsLean,
        TruncationAwareRandomCrop)
    if path == 'lean':
        return [
            LoadImageFromFile(),
            LoadPanopticAnnotationsLean(),
            ISUSResize(stuff_range=(scale, scale), isus=False),
            TruncationAwareRandomCrop(crop_size=(crop, crop)),
            InstMapToMasks()
        ]
    try:
        import panopticapi.utils  # noqa: F401
    except ImportError:
        import types

        from mmpanoptic_cabb.structures.panoptic_png import rgb2id
        utils = types.ModuleType('panopticapi.utils')
        utils.rgb2id = rgb2id
        package = types.ModuleType('panopticapi')
        package.utils = utils
        sys.modules.update({
            'panopticapi': package,
            'panopticapi.utils': utils
        })
    from mmdet.datasets.transforms import LoadPanopticAnnotations
    transforms = [LoadImageFromFile(), LoadPanopticAnnotations()]
    if scale != 1.0:
        transforms.append(Resize(scale_factor=scale, keep_ratio=True))
    transforms.append(
        RandomCrop(
            crop_size=(crop, crop),
            recompute_bbox=True,
            allow_negative_crop=True))
    return transforms


def peak_rss_mib() -> float:
    """Peak resident set size of this process in MiB (Linux: KiB units)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_path(path: str,
             sample: str,
             crop: int,
             scale: float,
             repeats: int,
             one_core: bool = True) -> Dict:
    """Run one path in this process; returns its measurements.

    With ``one_core`` the process is pinned to one CPU and cv2/torch use one
    thread (meant for the benchmark's subprocesses).
    """
    if one_core:
        import cv2
        import torch
        if hasattr(os, 'sched_setaffinity'):
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        cv2.setNumThreads(1)
        torch.set_num_threads(1)
    transforms = build_pipeline(path, crop, scale)
    rss_imports = peak_rss_mib()
    with open(sample) as f:
        info = json.load(f)
    np.random.seed(0)
    times, cpu_times, num = [], [], 0
    for _ in range(repeats):
        results = dict(info)
        start, cpu_start = time.perf_counter(), time.process_time()
        for t in transforms:
            results = t(results)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
        num = len(results['gt_masks'])
        del results
    return dict(
        path=path,
        seconds=float(np.median(times)),
        cpu_seconds=float(np.median(cpu_times)),
        seconds_all=[round(t, 3) for t in times],
        peak_rss_mib=peak_rss_mib(),
        rss_after_imports_mib=rss_imports,
        masks_in_crop=num,
        megapixels=info['height'] * info['width'] / 1e6,
        instances=len(info['instances']))


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Dict]:
    """Generate the sample and benchmark each path in a subprocess."""
    args = parse_args(argv)
    if args.run_path:
        print(
            json.dumps(
                run_path(args.run_path, args.sample, args.crop, args.scale,
                         args.repeats)))
        return {}
    work_dir = args.work_dir or tempfile.mkdtemp(prefix='bench_pipeline_')
    os.makedirs(work_dir, exist_ok=True)
    sample = generate_sample(work_dir, args.megapixels, args.instances)
    env = dict(
        os.environ,
        OMP_NUM_THREADS='1',
        MKL_NUM_THREADS='1',
        OPENBLAS_NUM_THREADS='1')
    reports = {}
    for path in args.paths:
        cmd = [
            sys.executable,
            osp.abspath(__file__), '--run-path', path, '--sample', sample,
            '--crop',
            str(args.crop), '--scale',
            str(args.scale), '--repeats',
            str(args.repeats)
        ]
        out = subprocess.run(
            cmd, env=env, check=True, capture_output=True, text=True).stdout
        reports[path] = json.loads(out.strip().splitlines()[-1])
    first = next(iter(reports.values()))
    print(f'sample: {first["megapixels"]:.2f} MP, {first["instances"]} '
          f'instances, crop {args.crop}x{args.crop}, scale {args.scale}, '
          f'1 core, median of {args.repeats}')
    print(f'{"path":<8}{"wall s":>9}{"cpu s":>9}{"peak RSS MiB":>14}'
          f'{"RSS imports":>13}{"masks":>7}')
    for r in reports.values():
        print(f'{r["path"]:<8}{r["seconds"]:>9.3f}{r["cpu_seconds"]:>9.3f}'
              f'{r["peak_rss_mib"]:>14.0f}{r["rss_after_imports_mib"]:>13.0f}'
              f'{r["masks_in_crop"]:>7}')
    return reports


if __name__ == '__main__':
    main()
