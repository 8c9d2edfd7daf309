"""Time and peak memory of one high-resolution training sample.

Two modes, each case run in a fresh subprocess pinned to one CPU core.

Default mode, lean vs mmdet loading: a generated high-resolution panoptic
sample (default 8.8 MP, 100 thing instances plus stuff, void and a crowd
region; a JPEG image and a COCO panoptic PNG) through

- ``lean``: ``LoadImageFromFile`` + ``LoadPanopticAnnotationsLean`` +
  ``ISUSResize`` (fixed factor ``--scale``) + ``TruncationAwareRandomCrop`` +
  ``InstMapToMasks``;
- ``mmdet``: ``LoadImageFromFile`` + mmdet's ``LoadPanopticAnnotations`` (+
  ``Resize`` when ``--scale`` is not 1) + ``RandomCrop(recompute_bbox)``.

Paper-scale mode (``--paper-scale``): a Mapillary-Vistas-like sample
(default 12 MP, 4:3, the 65 classes' labels, 150 things) through the train
pipeline of the MVD CROP + ISUS config (``--config``) with ``sigma`` forced
to each of ``--sigmas`` (``stuff_range = thing_range = (sigma, sigma)``, a
thing instance drawn as class-uniform sampling does, so the crop shows it),
and the MVD CROP config's own pipeline (``--crop-config``, ``sigma ~ r_st``)
as the reference; each with the eager resize (``old``:
``ISUSResize(lazy=False)``, the whole image resized before the crop) and the
window-first one (``new``: ``lazy=True``). Then, unless
``--loader-batches 0``, samples/s of the config's full train dataloader
(its dataset wrapper, sampler, workers and batch size) on a dataset of
``--loader-images`` links to the sample, per path.

Each subprocess reports the median wall-clock and CPU (``process_time``)
seconds per sample, and its peak RSS (``ru_maxrss``), also after the imports
alone (on a busy machine the CPU time is the steadier figure). mmdet's
loader needs panopticapi's ``rgb2id``; when panopticapi is not installed
this package's :func:`~mmpanoptic_cabb.structures.panoptic_png.rgb2id`
stands in for it.

Examples::

    python tools/analysis_tools/benchmark_pipeline.py --megapixels 8.8 \\
        --instances 100 --crop 1024
    python tools/analysis_tools/benchmark_pipeline.py --paper-scale
"""
import argparse
import copy
import json
import os
import os.path as osp
import resource
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional, Sequence

import numpy as np

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MVD_CONFIGS = osp.join(REPO_ROOT, 'configs', 'seamless')
#: The MVD CROP + ISUS config and the MVD CROP config (the reference).
MVD_ISUS_CONFIG = osp.join(
    MVD_CONFIGS,
    'seamless_hrnetv2-w48_crop-1024-isus_8xb4-300e_mapillary-vistas.py')
MVD_CROP_CONFIG = osp.join(
    MVD_CONFIGS,
    'seamless_hrnetv2-w48_crop-1024_8xb4-300e_mapillary-vistas.py')
#: Paths of the paper-scale mode: ISUSResize's lazy flag.
LAZY = {'old': False, 'new': True}


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark lean vs mmdet panoptic loading + crop, or '
        'the paper-scale MVD CROP + ISUS sample')
    parser.add_argument(
        '--megapixels',
        type=float,
        help='sample size (default 8.8, paper scale 12)')
    parser.add_argument(
        '--instances', type=int, help='things (default 100, paper scale 150)')
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
        '--paper-scale',
        action='store_true',
        help='MVD CROP + ISUS pipeline, sigma forced, old vs new path')
    parser.add_argument('--config', default=MVD_ISUS_CONFIG)
    parser.add_argument('--crop-config', default=MVD_CROP_CONFIG)
    parser.add_argument(
        '--sigmas', type=float, nargs='+', default=[0.25, 1.0, 2.0, 4.0])
    parser.add_argument(
        '--loader-batches',
        type=int,
        default=10,
        help='batches timed per data loader run (0: no loader runs)')
    parser.add_argument('--loader-images', type=int, default=8)
    parser.add_argument(
        '--loader-workers',
        type=int,
        help='data loader workers (default: the config\'s)')
    parser.add_argument(
        '--run-path', choices=['lean', 'mmdet'], help=argparse.SUPPRESS)
    parser.add_argument('--run-paper', help=argparse.SUPPRESS)
    parser.add_argument('--run-loader', help=argparse.SUPPRESS)
    parser.add_argument('--lazy', type=int, help=argparse.SUPPRESS)
    parser.add_argument('--sigma', type=float, help=argparse.SUPPRESS)
    parser.add_argument('--sample', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.megapixels is None:
        args.megapixels = 12.0 if args.paper_scale else 8.8
    if args.instances is None:
        args.instances = 150 if args.paper_scale else 100
    return args


def generate_sample(out_dir: str,
                    megapixels: float,
                    num_instances: int,
                    seed: int = 0,
                    mvd_labels: bool = False) -> str:
    """Write a 4:3 panoptic sample; returns the path of its data info JSON.

    See :func:`~mmpanoptic_cabb.data_preparation.synthetic.benchmark_sample.
    write_benchmark_sample`; with ``mvd_labels`` the things and stuff bands
    take the contiguous labels of Mapillary Vistas' 37 thing and 28 stuff
    classes.
    """
    from mmpanoptic_cabb.data_preparation.synthetic.benchmark_sample import \
        write_benchmark_sample
    kwargs = {}
    if mvd_labels:
        things, stuff = mvd_label_ranges()
        kwargs = dict(thing_labels=things, stuff_labels=stuff)
    return write_benchmark_sample(out_dir, megapixels, num_instances, seed,
                                  **kwargs)


def mvd_label_ranges() -> tuple:
    """Contiguous thing and stuff labels of Mapillary Vistas v1.2."""
    from mmpanoptic_cabb.datasets import MapillaryVistasPanopticDataset
    meta = MapillaryVistasPanopticDataset.METAINFO
    num_things = len(meta['thing_classes'])
    return (tuple(range(num_things)),
            tuple(range(num_things, len(meta['classes']))))


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


def pin_one_core() -> None:
    """Pin this process to one CPU; cv2 and torch use one thread."""
    import cv2
    import torch
    if hasattr(os, 'sched_setaffinity'):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def time_pipeline(transforms, make_results, repeats: int) -> Dict:
    """Median seconds of ``repeats`` runs of ``transforms`` on fresh
    results ``make_results(k)``; the last output's masks and image size."""
    times, cpu_times, num, shape = [], [], 0, None
    for k in range(repeats):
        results = make_results(k)
        start, cpu_start = time.perf_counter(), time.process_time()
        for t in transforms:
            results = t(results)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
        if 'data_samples' in results:  # packed
            num = len(results['data_samples'].gt_instances)
            shape = list(results['inputs'].shape[1:])
        else:
            num = len(results['gt_masks'])
            shape = list(results['img'].shape[:2])
        del results
    return dict(
        seconds=float(np.median(times)),
        cpu_seconds=float(np.median(cpu_times)),
        seconds_all=[round(t, 3) for t in times],
        peak_rss_mib=peak_rss_mib(),
        masks_in_crop=num,
        crop_shape=shape)


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
        pin_one_core()
    transforms = build_pipeline(path, crop, scale)
    rss_imports = peak_rss_mib()
    with open(sample) as f:
        info = json.load(f)
    np.random.seed(0)
    report = time_pipeline(transforms, lambda _: dict(info), repeats)
    return dict(
        report,
        path=path,
        rss_after_imports_mib=rss_imports,
        megapixels=info['height'] * info['width'] / 1e6,
        instances=len(info['instances']))


def config_train_pipeline(config: str, sigma: Optional[float],
                          lazy: bool) -> List[dict]:
    """The train pipeline of a config, ``sigma`` forced, ``lazy`` set."""
    from mmengine.config import Config
    steps = copy.deepcopy(Config.fromfile(config).train_pipeline)
    for step in steps:
        if step['type'] == 'ISUSResize':
            step['lazy'] = lazy
            if sigma is not None:
                step['stuff_range'] = step['thing_range'] = (sigma, sigma)
    return steps


def _registered():
    """mmdet's default scope with this package's modules registered."""
    from mmengine.registry import init_default_scope

    import mmpanoptic_cabb  # noqa: F401
    init_default_scope('mmdet')


def run_paper(config: str,
              sample: str,
              sigma: Optional[float],
              lazy: bool,
              repeats: int,
              one_core: bool = True) -> Dict:
    """One paper-scale case in this process: the config's train pipeline
    (``sigma`` forced unless None, ``ISUSResize(lazy=lazy)``) on the sample,
    with a thing instance drawn per repeat as class-uniform sampling does."""
    if one_core:
        pin_one_core()
    _registered()
    from mmcv.transforms import Compose
    pipeline = Compose(config_train_pipeline(config, sigma, lazy))
    rss_imports = peak_rss_mib()
    with open(sample) as f:
        info = json.load(f)
    rows = [k for k, inst in enumerate(info['instances'])
            if not inst['ignore_flag']]

    def draw(k: int) -> dict:
        row = rows[np.random.default_rng(k).integers(len(rows))]
        return dict(info, sampled_class=info['instances'][row]['bbox_label'],
                    sampled_instance=row)

    np.random.seed(0)
    report = time_pipeline(pipeline.transforms, draw, repeats)
    return dict(
        report,
        sigma=sigma,
        lazy=lazy,
        rss_after_imports_mib=rss_imports,
        megapixels=info['height'] * info['width'] / 1e6,
        instances=len(info['instances']))


def run_loader(config: str, data_root: str, batches: int,
               workers: Optional[int], lazy: bool) -> Dict:
    """Samples/s of the config's train dataloader on ``data_root``.

    The first batch (worker start-up) is not timed; epochs are restarted
    as needed.
    """
    _registered()
    from mmengine.config import Config
    from mmengine.runner import Runner
    cfg = Config.fromfile(config)
    loader_cfg = copy.deepcopy(cfg.train_dataloader)
    inner = loader_cfg.dataset
    while 'dataset' in inner:
        inner = inner.dataset
    inner.data_root = data_root.rstrip('/') + '/'
    inner.pipeline = config_train_pipeline(config, None, lazy)
    if workers is not None:
        loader_cfg.num_workers = workers
        loader_cfg.persistent_workers = workers > 0
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    epoch, it = 0, iter(loader)

    def next_batch():
        nonlocal epoch, it
        while True:
            try:
                return next(it)
            except StopIteration:
                epoch += 1
                if hasattr(loader.sampler, 'set_epoch'):
                    loader.sampler.set_epoch(epoch)
                it = iter(loader)

    next_batch()
    start, samples = time.perf_counter(), 0
    for _ in range(batches):
        samples += len(next_batch()['inputs'])
    seconds = time.perf_counter() - start
    return dict(
        lazy=lazy,
        workers=loader_cfg.num_workers,
        batch_size=loader_cfg.batch_size,
        samples=samples,
        seconds=seconds,
        samples_per_s=samples / seconds,
        peak_rss_mib_main=peak_rss_mib())


def _subprocess(args: List[str], one_core: bool = True) -> Dict:
    env = dict(os.environ)
    if one_core:
        env.update(
            OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', OPENBLAS_NUM_THREADS='1')
    out = subprocess.run([sys.executable, osp.abspath(__file__)] + args,
                         env=env, check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def paper_main(args: argparse.Namespace, work_dir: str) -> Dict:
    """The paper-scale mode (see the module docstring)."""
    from mmpanoptic_cabb.data_preparation.synthetic.benchmark_sample import \
        write_benchmark_dataset
    from mmpanoptic_cabb.datasets.categories import (
        MAPILLARY_VISTAS_V12_CATEGORIES, coco_categories)
    sample = generate_sample(work_dir, args.megapixels, args.instances,
                             mvd_labels=True)
    cases = [('crop', None, args.crop_config)] + [
        (f'sigma={s:g}', s, args.config) for s in args.sigmas
    ]
    reports = {}
    for name, sigma, config in cases:
        for path, lazy in LAZY.items():
            reports[name, path] = _subprocess([
                '--run-paper', config, '--sample', sample, '--lazy',
                str(int(lazy)), '--repeats',
                str(args.repeats)
            ] + ([] if sigma is None else ['--sigma', str(sigma)]))
    first = next(iter(reports.values()))
    print(f'paper scale: {first["megapixels"]:.2f} MP, '
          f'{first["instances"]} instances, 1 core, median of '
          f'{args.repeats}; old = eager resize, new = window first')
    print(f'{"case":<12}' + ''.join(
        f'{p + " " + k:>15}' for p in LAZY
        for k in ('wall s', 'cpu s', 'RSS MiB')) + f'{"crop":>12}')
    for name, _, _ in cases:
        row = [reports[name, p] for p in LAZY]
        print(f'{name:<12}' + ''.join(
            f'{r["seconds"]:>15.3f}{r["cpu_seconds"]:>15.3f}'
            f'{r["peak_rss_mib"]:>15.0f}'
            for r in row) + f'{"x".join(map(str, row[1]["crop_shape"])):>12}')
    if args.sigmas and max(args.sigmas) >= 4:
        big, ref = reports[f'sigma={max(args.sigmas):g}', 'new'], \
            reports['crop', 'new']
        print(f'budget: sigma={max(args.sigmas):g} new / crop new = '
              f'{big["cpu_seconds"] / ref["cpu_seconds"]:.2f} x cpu '
              f'(<= 1.5), peak RSS {big["peak_rss_mib"] / 1024:.2f} GiB '
              '(<= 1.2)')
    if args.loader_batches > 0:
        root = osp.join(work_dir, 'mvd_like')
        write_benchmark_dataset(root, sample,
                                coco_categories(
                                    MAPILLARY_VISTAS_V12_CATEGORIES),
                                args.loader_images)
        for path, lazy in LAZY.items():
            extra = [] if args.loader_workers is None else \
                ['--loader-workers', str(args.loader_workers)]
            r = _subprocess([
                '--run-loader', args.config, '--sample', root, '--lazy',
                str(int(lazy)), '--loader-batches',
                str(args.loader_batches)
            ] + extra, one_core=False)
            reports['loader', path] = r
            print(f'loader {path}: {r["samples_per_s"]:.2f} samples/s '
                  f'({r["workers"]} workers, batch {r["batch_size"]}, '
                  f'{r["samples"]} samples in {r["seconds"]:.1f} s)')
    return reports


def main(argv: Optional[Sequence[str]] = None) -> Dict:
    """Generate the sample and benchmark each case in a subprocess."""
    args = parse_args(argv)
    if args.run_path:
        print(
            json.dumps(
                run_path(args.run_path, args.sample, args.crop, args.scale,
                         args.repeats)))
        return {}
    if args.run_paper:
        print(
            json.dumps(
                run_paper(args.run_paper, args.sample, args.sigma,
                          bool(args.lazy), args.repeats)))
        return {}
    if args.run_loader:
        print(
            json.dumps(
                run_loader(args.run_loader, args.sample, args.loader_batches,
                           args.loader_workers, bool(args.lazy))))
        return {}
    work_dir = args.work_dir or tempfile.mkdtemp(prefix='bench_pipeline_')
    os.makedirs(work_dir, exist_ok=True)
    if args.paper_scale:
        return paper_main(args, work_dir)
    sample = generate_sample(work_dir, args.megapixels, args.instances)
    reports = {}
    for path in args.paths:
        reports[path] = _subprocess([
            '--run-path', path, '--sample', sample, '--crop',
            str(args.crop), '--scale',
            str(args.scale), '--repeats',
            str(args.repeats)
        ])
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
