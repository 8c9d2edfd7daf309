"""Time and peak memory of one high-resolution training sample.

Three modes, each case run in a fresh subprocess pinned to one CPU core.

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

Throughput mode (``--throughput``): for each crop config of ``--configs``
(default: CROP and CROP + ISUS of Mapillary Vistas, IDD and Cityscapes), a
dataset of links to one generated sample of the dataset's typical size and
labels (12 MP 4:3, 1920 x 1080, 2048 x 1024), and ``--loader-batches``
batches of the config's train data loader in one process on one core
(``num_workers=0``: what one loader worker delivers, class-uniform draws and
sigma as the config draws them), old and new path: samples/s of one worker,
and the workers per GPU that the config's batch at ``--iter-per-s``
iterations per second needs (batch x it/s / samples/s per worker).

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
    python tools/analysis_tools/benchmark_pipeline.py --throughput
"""
import argparse
import json
import math
import os
import os.path as osp
import tempfile
from typing import Dict, Optional, Sequence

from mmpanoptic_cabb.analysis.benchmark.pipeline_cases import (
    run_config_pipeline, run_loader, run_path)
from mmpanoptic_cabb.analysis.benchmark.process import (add_sample_arguments,
                                                        json_subprocess)
from mmpanoptic_cabb.analysis.benchmark.samples import (generate_dataset,
                                                        generate_sample)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PAPER_CONFIGS = osp.join(REPO_ROOT, 'configs', 'seamless')
#: The MVD CROP + ISUS config and the MVD CROP config (the reference).
MVD_ISUS_CONFIG = osp.join(
    PAPER_CONFIGS,
    'seamless_hrnetv2-w48_crop-1024-isus_8xb4-300e_mapillary-vistas.py')
MVD_CROP_CONFIG = osp.join(
    PAPER_CONFIGS,
    'seamless_hrnetv2-w48_crop-1024_8xb4-300e_mapillary-vistas.py')
#: The crop configs of the throughput mode, with their dataset.
THROUGHPUT_CONFIGS = {
    'mapillary_vistas': [MVD_CROP_CONFIG, MVD_ISUS_CONFIG],
    'idd': [
        osp.join(PAPER_CONFIGS, f'seamless_hrnetv2-w48_crop-512{v}_8xb8-'
                 '600e_idd.py') for v in ('', '-isus')
    ],
    'cityscapes': [
        osp.join(PAPER_CONFIGS, f'seamless_hrnetv2-w48_crop-512{v}_8xb8-'
                 '150e_cityscapes.py') for v in ('', '-isus')
    ],
}
#: Paths of the paper-scale and throughput modes: ISUSResize's lazy flag.
LAZY = {'old': False, 'new': True}


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark lean vs mmdet panoptic loading + crop, the '
        'paper-scale MVD CROP + ISUS sample, or the crop configs\' '
        'samples/s per loader worker')
    add_sample_arguments(parser)
    parser.add_argument('--crop', type=int, default=1024, help='crop side')
    parser.add_argument(
        '--scale',
        type=float,
        default=1.0,
        help='fixed resize factor applied before the crop')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument(
        '--paths',
        nargs='+',
        default=['lean', 'mmdet'],
        choices=['lean', 'mmdet'])
    parser.add_argument(
        '--paper-scale',
        action='store_true',
        help='MVD CROP + ISUS pipeline, sigma forced, old vs new path')
    parser.add_argument(
        '--throughput',
        action='store_true',
        help='samples/s of one loader worker per crop config, old vs new')
    parser.add_argument('--config', default=MVD_ISUS_CONFIG)
    parser.add_argument('--crop-config', default=MVD_CROP_CONFIG)
    parser.add_argument(
        '--configs',
        nargs='+',
        choices=sorted(THROUGHPUT_CONFIGS),
        default=list(THROUGHPUT_CONFIGS),
        help='datasets of the throughput mode')
    parser.add_argument(
        '--iter-per-s',
        type=float,
        default=1.0,
        help='training iterations per second per GPU (throughput mode)')
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
    parser.add_argument('--one-core', type=int, help=argparse.SUPPRESS)
    parser.add_argument('--lazy', type=int, help=argparse.SUPPRESS)
    parser.add_argument('--sigma', type=float, help=argparse.SUPPRESS)
    parser.add_argument('--sample', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.megapixels is None:
        args.megapixels = 12.0 if args.paper_scale else 8.8
    if args.instances is None:
        args.instances = 150 if args.paper_scale or args.throughput else 100
    return args


def _case(args: list, one_core: bool = True) -> Dict:
    return json_subprocess(osp.abspath(__file__), args, one_thread=one_core)


def paper_main(args: argparse.Namespace, work_dir: str) -> Dict:
    """The paper-scale mode (see the module docstring)."""
    from mmpanoptic_cabb.data_preparation.synthetic.benchmark_sample import \
        write_benchmark_dataset
    from mmpanoptic_cabb.datasets.categories import (
        MAPILLARY_VISTAS_V12_CATEGORIES, coco_categories)
    sample = generate_sample(work_dir, args.megapixels, args.instances,
                             dataset='mapillary_vistas')
    cases = [('crop', None, args.crop_config)] + [
        (f'sigma={s:g}', s, args.config) for s in args.sigmas
    ]
    reports = {}
    for name, sigma, config in cases:
        for path, lazy in LAZY.items():
            reports[name, path] = _case([
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
            r = _case([
                '--run-loader', args.config, '--sample', root, '--lazy',
                str(int(lazy)), '--loader-batches',
                str(args.loader_batches)
            ] + extra, one_core=False)
            reports['loader', path] = r
            print(f'loader {path}: {r["samples_per_s"]:.2f} samples/s '
                  f'({r["workers"]} workers, batch {r["batch_size"]}, '
                  f'{r["samples"]} samples in {r["seconds"]:.1f} s)')
    return reports


def throughput_main(args: argparse.Namespace, work_dir: str) -> Dict:
    """The throughput mode (see the module docstring)."""
    reports = {}
    print(f'one loader worker on one core, {args.loader_batches} batches '
          f'timed; workers per GPU for batch x {args.iter_per_s:g} it/s')
    width = 2 + max(
        len(osp.basename(c)) for d in args.configs
        for c in THROUGHPUT_CONFIGS[d])
    print(f'{"config":<{width}}{"MP":>6}' + ''.join(
        f'{p + " " + k:>14}' for p in LAZY
        for k in ('samples/s', 'cpu s', 'workers')))
    for dataset in args.configs:
        data = generate_dataset(
            osp.join(work_dir, dataset), dataset, args.instances,
            args.loader_images)
        for config in THROUGHPUT_CONFIGS[dataset]:
            row = []
            for path, lazy in LAZY.items():
                r = _case([
                    '--run-loader', config, '--sample', data['root'],
                    '--lazy', str(int(lazy)), '--loader-batches',
                    str(args.loader_batches), '--loader-workers', '0',
                    '--one-core', '1'
                ])
                # the CPU time per sample: on a busy machine the wall
                # clock also counts other processes' time slices
                per_s = 1.0 / r['cpu_seconds_per_sample']
                r.update(
                    megapixels=data['megapixels'],
                    cpu_samples_per_s=per_s,
                    workers_per_gpu=math.ceil(
                        r['batch_size'] * args.iter_per_s / per_s))
                reports[osp.basename(config), path] = r
                row.append(r)
            print(f'{osp.basename(config):<{width}}'
                  f'{data["megapixels"]:>6.1f}' + ''.join(
                      f'{r["cpu_samples_per_s"]:>14.2f}'
                      f'{r["cpu_seconds_per_sample"]:>14.3f}'
                      f'{r["workers_per_gpu"]:>14d}' for r in row))
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
                run_config_pipeline(args.run_paper, args.sample, args.sigma,
                                    bool(args.lazy), args.repeats)))
        return {}
    if args.run_loader:
        print(
            json.dumps(
                run_loader(args.run_loader, args.sample, args.loader_batches,
                           args.loader_workers, bool(args.lazy),
                           bool(args.one_core))))
        return {}
    work_dir = args.work_dir or tempfile.mkdtemp(prefix='bench_pipeline_')
    os.makedirs(work_dir, exist_ok=True)
    if args.paper_scale:
        return paper_main(args, work_dir)
    if args.throughput:
        return throughput_main(args, work_dir)
    sample = generate_sample(work_dir, args.megapixels, args.instances)
    reports = {}
    for path in args.paths:
        reports[path] = _case([
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
