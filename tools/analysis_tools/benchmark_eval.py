"""Per-image time of the panoptic evaluators on synthetic 2 MP and 12 MP pairs.

Generates ground-truth / prediction pairs in COCO panoptic format (random
stuff bands with wavy borders, 40-120 polygonal thing instances per image
with a long-tailed size distribution, crowd and void regions; the prediction
is the same scene with jittered geometry, missed, mislabelled and spurious
instances) and times, on the same files:

* ``ours (files)``: this package's evaluator from the two PNGs (PQ, PQ†, PC
  and mIoU), single thread, and with the two PNGs decoded in two threads;
* ``ours (online)``: ``PanopticQualityMetric.process`` on an in-memory
  mmdet prediction (reads only the ground-truth PNG);
* panopticapi's ``pq_compute_single_core`` (PQ only), when installed;
* mmdet's ``pq_compute_single_core`` (panopticapi's algorithm, mmcv I/O) and
  ``CocoPanopticMetric.process`` (online, writes the prediction PNG first);
* hotcoco's PQ (whole set, its own threading), when installed.

Example::

    python tools/analysis_tools/benchmark_eval.py --num-images 3
"""
import argparse
import contextlib
import io
import json
import os.path as osp
import tempfile
import time
from typing import Callable, Dict, List, Optional

import cv2
import numpy as np
from PIL import Image

from mmpanoptic_cabb.evaluation.functional import (evaluate_coco_panoptic,
                                                   load_json,
                                                   write_coco_panoptic_pair)
from mmpanoptic_cabb.structures.panoptic_png import (MAX_PANOPTIC_ID,
                                                     SPNG_AVAILABLE, id2rgb)

SIZES = {'2MP': (1200, 1600), '12MP': (3000, 4000)}
NUM_THINGS, NUM_STUFF = 37, 28  # Mapillary Vistas-like label set
CATEGORIES = ([dict(id=i + 1, name=f'thing{i}', isthing=1)
               for i in range(NUM_THINGS)] +
              [dict(id=NUM_THINGS + i + 1, name=f'stuff{i}', isthing=0)
               for i in range(NUM_STUFF)])


# ---------------------------------------------------------------- scenes
def _scene(rng: np.random.Generator, h: int, w: int) -> dict:
    """A parametric scene: stuff bands and thing polygons."""
    num_bands = int(rng.integers(6, 11))
    stuff = rng.choice(NUM_STUFF, num_bands, replace=False) + NUM_THINGS
    bases = np.sort(rng.uniform(0.05, 0.95, num_bands - 1)) * h
    bands = [
        dict(
            base=b,
            amp=rng.uniform(0.005, 0.05) * h,
            freq=rng.uniform(1, 8) * 2 * np.pi / w,
            phase=rng.uniform(0, 2 * np.pi)) for b in bases
    ]
    things = []
    num = int(rng.integers(40, 121))
    for _ in range(num):
        # long-tailed object sizes: a few huge, many small
        size = float(np.exp(rng.uniform(np.log(8), np.log(0.6 * min(h, w)))))
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        angles = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(5, 12))))
        radii = size / 2 * rng.uniform(0.6, 1.0, angles.size)
        things.append(
            dict(
                label=int(rng.integers(0, NUM_THINGS)),
                center=(cx, cy),
                angles=angles,
                radii=radii,
                crowd=bool(rng.random() < 0.03)))
    voids = [(rng.uniform(0, w), rng.uniform(0, h), rng.uniform(5, 0.05 * w))
             for _ in range(int(rng.integers(1, 6)))]
    return dict(stuff=stuff, bands=bands, things=things, voids=voids)


def _perturb(rng: np.random.Generator, scene: dict) -> dict:
    """A plausible prediction of ``scene``."""
    bands = [
        dict(b, base=b['base'] + rng.normal(0, 0.01) * 1000,
             phase=b['phase'] + rng.normal(0, 0.2)) for b in scene['bands']
    ]
    stuff = scene['stuff'].copy()
    if rng.random() < 0.3:
        k = int(rng.integers(0, stuff.size))
        unused = np.setdiff1d(np.arange(NUM_STUFF) + NUM_THINGS, stuff)
        stuff[k] = rng.choice(unused)
    things = []
    for t in scene['things']:
        if rng.random() < 0.12:
            continue  # missed
        label = t['label'] if rng.random() > 0.1 else int(
            rng.integers(0, NUM_THINGS))
        jitter = 1 + rng.normal(0, 0.08, t['radii'].size)
        cx, cy = t['center']
        shift = rng.normal(0, 0.05) * t['radii'].mean()
        things.append(
            dict(t, label=label, radii=t['radii'] * jitter,
                 center=(cx + shift, cy + shift), crowd=False))
    for _ in range(int(rng.integers(0, 10))):  # false positives
        things.append(dict(rng.choice(scene['things']), crowd=False))
    return dict(stuff=stuff, bands=bands, things=things, voids=[])


def _render(scene: dict, h: int, w: int, rng: np.random.Generator):
    """Id map (uint32), segments_info and the mmdet panoptic map."""
    x = np.arange(w)
    band_index = np.zeros((h, w), dtype=np.int32)
    rows = np.arange(h)[:, None]
    for band in scene['bands']:
        border = band['base'] + band['amp'] * np.sin(band['freq'] * x +
                                                     band['phase'])
        band_index += rows >= border[None, :]
    segments, labels = [], []
    label_map = np.zeros((h, w), dtype=np.int32)  # index into segments
    for k, label in enumerate(scene['stuff']):
        segments.append(dict(category_id=int(label) + 1, iscrowd=0))
        labels.append((int(label), 0))
    np.copyto(label_map, band_index)
    instance = 0
    for t in scene['things']:
        cx, cy = t['center']
        pts = np.stack([
            cx + t['radii'] * np.cos(t['angles']),
            cy + t['radii'] * np.sin(t['angles'])
        ], -1).round().astype(np.int32)
        instance += 1
        segments.append(
            dict(category_id=t['label'] + 1, iscrowd=int(t['crowd'])))
        labels.append((t['label'], instance))
        cv2.fillPoly(label_map, [pts], len(segments) - 1)
    for vx, vy, vr in scene['voids']:
        cv2.circle(label_map, (int(vx), int(vy)), int(vr), -1, -1)
    # segment ids: random distinct 24-bit colours; void stays 0
    ids = 1 + rng.choice(MAX_PANOPTIC_ID, len(segments), replace=False)
    lut = np.concatenate([[0], ids]).astype(np.uint32)
    id_map = lut[label_map + 1]
    pan_lut = np.concatenate([[NUM_THINGS + NUM_STUFF], [
        lab + inst * 1000 for lab, inst in labels
    ]]).astype(np.int64)
    pan_map = pan_lut[label_map + 1]
    present = np.bincount(label_map.ravel() + 1, minlength=len(segments) + 1)
    infos = []
    for k, seg in enumerate(segments):
        if present[k + 1]:
            infos.append(
                dict(seg, id=int(ids[k]), area=int(present[k + 1])))
    return id_map, infos, pan_map


def _save_png(path: str, ids: np.ndarray) -> None:
    # saved with PIL (zlib level 6), as panopticapi writes its PNGs
    Image.fromarray(id2rgb(ids)).save(path)


def make_dataset(root: str, size: str, num_images: int, seed: int) -> dict:
    """Write ``num_images`` synthetic pairs; returns paths and pan maps."""
    h, w = SIZES[size]
    rng = np.random.default_rng(seed)
    pans = []

    def samples():
        for k in range(num_images):
            scene = _scene(rng, h, w)
            gt_ids, gt_infos, _ = _render(scene, h, w, rng)
            pred_ids, pred_infos, pan = _render(
                _perturb(rng, scene), h, w, rng)
            pans.append(pan)
            yield dict(
                file_name=f'{size}_{k:03d}.png',
                gt_ids=gt_ids,
                gt_segments=gt_infos,
                pred_ids=pred_ids,
                pred_segments=pred_infos)

    paths = write_coco_panoptic_pair(
        root, samples(), CATEGORIES, save_png=_save_png)
    paths.update(
        pans=pans,
        gt_anns=load_json(paths['gt_json'])['annotations'],
        pred_anns=load_json(paths['pred_json'])['annotations'])
    return paths


# ---------------------------------------------------------------- timers
CLOCKS = {'wall': time.perf_counter, 'cpu': time.process_time}
_CLOCK = CLOCKS['wall']
_REPEAT = 1


def _per_image(fn: Callable[[], object], num_images: int) -> float:
    """Best of ``_REPEAT`` runs, in seconds per image."""
    best = float('inf')
    for _ in range(_REPEAT):
        start = _CLOCK()
        with contextlib.redirect_stdout(io.StringIO()):
            fn()
        best = min(best, (_CLOCK() - start) / num_images)
    return best


def _online_samples(data: dict) -> List[dict]:
    import torch
    samples = []
    for ann, pan in zip(data['gt_anns'], data['pans']):
        label_of = {c['id']: k for k, c in enumerate(CATEGORIES)}
        samples.append(
            dict(
                img_id=ann['image_id'],
                img_path=ann['file_name'].replace('.png', '.jpg'),
                ori_shape=pan.shape,
                seg_map_path=osp.join(data['gt_folder'], ann['file_name']),
                segments_info=[
                    dict(
                        id=s['id'],
                        category=label_of[s['category_id']],
                        is_thing=bool(
                            CATEGORIES[label_of[s['category_id']]]
                            ['isthing']) and not s['iscrowd'])
                    for s in ann['segments_info']
                ],
                pred_panoptic_seg=dict(
                    sem_seg=torch.from_numpy(pan[None].astype(np.int32)))))
    return samples


def _dataset_meta() -> dict:
    names = [c['name'] for c in CATEGORIES]
    return dict(
        classes=names,
        thing_classes=names[:NUM_THINGS],
        stuff_classes=names[NUM_THINGS:])


def time_all(data: dict, num_images: int) -> Dict[str, Optional[float]]:
    """Seconds per image of every available evaluator on one dataset."""
    times: Dict[str, Optional[float]] = {}
    pairs = list(zip(data['gt_anns'], data['pred_anns']))
    categories = {c['id']: c for c in CATEGORIES}
    args = (data['gt_json'], data['gt_folder'], data['pred_json'],
            data['pred_folder'])
    ours = {}
    times['ours, files, 1 thread (PQ+PQ†+PC+mIoU)'] = _per_image(
        lambda: ours.update(evaluate_coco_panoptic(*args)), num_images)
    times['ours, files, 2 decode threads'] = _per_image(
        lambda: evaluate_coco_panoptic(*args, decode_threads=2), num_images)

    from mmpanoptic_cabb.evaluation.metrics import PanopticQualityMetric
    metric = PanopticQualityMetric(instance_iou_types=())
    metric.dataset_meta = _dataset_meta()
    samples = _online_samples(data)
    times['ours, online metric (gt PNG only)'] = _per_image(
        lambda: metric.process({}, samples), num_images)

    try:
        from panopticapi.evaluation import \
            pq_compute_single_core as panopticapi_single
    except ImportError:
        panopticapi_single = None
    reference_pq = None
    if panopticapi_single is not None:
        stat = {}
        times['panopticapi pq_compute_single_core (PQ)'] = _per_image(
            lambda: stat.update(s=panopticapi_single(
                0, pairs, data['gt_folder'], data['pred_folder'],
                categories)), num_images)
        reference_pq = 100 * stat['s'].pq_average(categories, None)[0]['pq']
        from mmdet.evaluation.functional import \
            pq_compute_single_core as mmdet_single
        times['mmdet pq_compute_single_core (PQ)'] = _per_image(
            lambda: mmdet_single(0, pairs, data['gt_folder'],
                                 data['pred_folder'], categories),
            num_images)
        from mmdet.evaluation.metrics import CocoPanopticMetric
        mmdet_metric = CocoPanopticMetric(seg_prefix=data['gt_folder'],
                                          nproc=1)
        mmdet_metric.dataset_meta = _dataset_meta()
        times['mmdet CocoPanopticMetric.process (PQ, online)'] = _per_image(
            lambda: mmdet_metric.process({}, samples), num_images)
    else:
        for name in ('panopticapi pq_compute_single_core (PQ)',
                     'mmdet pq_compute_single_core (PQ)',
                     'mmdet CocoPanopticMetric.process (PQ, online)'):
            times[name] = None
    try:
        from hotcoco import panoptic as hotcoco_panoptic
    except ImportError:
        hotcoco_panoptic = None
    times['hotcoco pq_compute (PQ, own threads)'] = None \
        if hotcoco_panoptic is None else _per_image(
            lambda: hotcoco_panoptic.pq_compute(
                data['gt_json'], data['pred_json'], data['gt_folder'],
                data['pred_folder']), num_images)
    times['_check'] = (ours['PQ'], reference_pq)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num-images', type=int, default=3,
                        help='images per size (default 3)')
    parser.add_argument('--sizes', nargs='+', default=list(SIZES),
                        choices=list(SIZES))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--work-dir', help='keep the generated data here')
    parser.add_argument('--repeat', type=int, default=1,
                        help='best of this many runs (default 1)')
    parser.add_argument('--clock', choices=list(CLOCKS), default='wall',
                        help="'cpu' counts this process's CPU time (all its "
                        'threads), less sensitive to other load')
    parser.add_argument('--out', help='write the timings as JSON here')
    args = parser.parse_args()
    global _CLOCK, _REPEAT
    _CLOCK, _REPEAT = CLOCKS[args.clock], max(1, args.repeat)

    decoder = 'libspng' if SPNG_AVAILABLE else 'OpenCV'
    print(f'PNG decoder of this package: {decoder}')
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            root = osp.join(args.work_dir or tmp, size)
            data = make_dataset(root, size, args.num_images, args.seed)
            # warm the page cache and lazy imports
            evaluate_coco_panoptic(data['gt_json'], data['gt_folder'],
                                   data['pred_json'], data['pred_folder'])
            segs = np.mean([len(a['segments_info']) for a in data['gt_anns']])
            print(f'{size}: {args.num_images} images, '
                  f'{segs:.0f} gt segments per image')
            results[size] = time_all(data, args.num_images)
    names = [k for k in results[args.sizes[0]] if not k.startswith('_')]
    base = 'panopticapi pq_compute_single_core (PQ)'
    header = f'{args.clock + " seconds per image":52s}' + ''.join(
        f'{s:>10s}{"speed-up":>10s}' for s in args.sizes)
    print(header)
    print('-' * len(header))
    for name in names:
        cells = ''
        for size in args.sizes:
            value, ref = results[size][name], results[size][base]
            cells += '       n/a          ' if value is None else (
                f'{value:10.3f}' +
                (f'{ref / value:9.1f}x' if ref else f'{"":10s}'))
        print(f'{name:52s}{cells}')
    for size in args.sizes:
        ours, ref = results[size]['_check']
        if ref is not None:
            print(f'{size}: PQ ours {ours:.6f}, panopticapi {ref:.6f}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=1)


if __name__ == '__main__':
    main()
