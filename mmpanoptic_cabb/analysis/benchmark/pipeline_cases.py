"""Training-pipeline cases of ``tools/analysis_tools/benchmark_pipeline.py``.

- :func:`run_path`: one generated sample through the lean loading + ISUS
  resize + crop (``lean``) or mmdet's panoptic loading + resize + crop
  (``mmdet``);
- :func:`run_config_pipeline`: a config's train pipeline on a sample, its
  ``sigma`` forced or drawn as the config does, with the eager resize
  (``ISUSResize(lazy=False)``, the whole image resized before the crop) or
  the window-first one (``lazy=True``);
- :func:`run_loader`: samples/s of a config's train data loader (dataset
  wrapper, sampler, workers, batch size) on a generated dataset.
"""
import copy
import json
import sys
import time
from typing import Dict, List, Optional

import numpy as np

from .process import peak_rss_mib, pin_one_core, registered_scope

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


def time_pipeline(transforms, make_results, repeats: int) -> Dict:
    """Median (and mean) seconds of ``repeats`` runs of ``transforms`` on
    fresh results ``make_results(k)``; the last output's masks and image
    size."""
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
        mean_cpu_seconds=float(np.mean(cpu_times)),
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


def run_config_pipeline(config: str,
                        sample: str,
                        sigma: Optional[float],
                        lazy: bool,
                        repeats: int,
                        one_core: bool = True) -> Dict:
    """A config's train pipeline on a sample, in this process.

    ``sigma`` is forced unless None (``stuff_range = thing_range = (sigma,
    sigma)``), ``ISUSResize(lazy=lazy)``; a thing instance is drawn per
    repeat as class-uniform sampling does, so that the crop shows it.
    """
    if one_core:
        pin_one_core()
    registered_scope()
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


def run_loader(config: str,
               data_root: str,
               batches: int,
               workers: Optional[int],
               lazy: bool,
               one_core: bool = False) -> Dict:
    """Samples/s of the config's train dataloader on ``data_root``.

    The first batch (worker start-up) is not timed; epochs are restarted
    as needed. ``workers=0`` with ``one_core`` measures what one loader
    worker delivers on one core (the draws, loading and transforms of the
    config's dataset wrapper and sampler, in this process).
    """
    if one_core:
        pin_one_core()
    registered_scope()
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
    start, cpu_start, samples = time.perf_counter(), time.process_time(), 0
    for _ in range(batches):
        samples += len(next_batch()['inputs'])
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    return dict(
        lazy=lazy,
        cpu_seconds_per_sample=cpu_seconds / samples,
        workers=loader_cfg.num_workers,
        batch_size=loader_cfg.batch_size,
        samples=samples,
        seconds=seconds,
        samples_per_s=samples / seconds,
        peak_rss_mib_main=peak_rss_mib())
