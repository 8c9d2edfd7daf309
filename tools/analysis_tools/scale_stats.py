"""Object-scale and crop statistics of a training pipeline (paper's Fig. 2).

Samples the config's training dataset + pipeline in three modes and plots
them side by side:

- ``as_is``: images drawn uniformly, the config's pipeline with ISUS off
  (``ISUSResize(isus=False)``: ``sigma ~ U(r_st)``), crop placed uniformly;
- ``cus``: class-uniform sampling (:class:`ClassUniformDataset`), ISUS off;
- ``isus``: class-uniform sampling with ISUS on (skipped when the pipeline
  has no ``ISUSResize``).

Outputs in ``--out``:

- ``crop_iou.png``: IoU of each cropped box w.r.t. the instance's extent
  right before the crop (mean per original-scale bin, and histogram);
- ``scale_distribution.png``: distribution of the box scales ``sqrt(wh)``
  seen in training samples (and of the annotations at original resolution),
  and the fraction of instances per pyramid level under the model's level
  rule;
- ``stats.json``: the numbers behind the plots.

The pre-crop extent (tight box of the instance's pixels, from
``gt_inst_map`` or ``gt_masks``) is taken by running the pipeline step by
step: before the crop transform every instance gets an id
(``gt_instances_ids``, which mmdet's and our crops filter), after it the
crop offset is read from the change of ``homography_matrix``. The level
rule (``finest_scale``, ``featmap_strides``) is read from
``model.roi_head.bbox_roi_extractor``, else from the pipeline's
``ISUSResize``, else mmdet's defaults (56, (4, 8, 16, 32)).

Example::

    python tools/analysis_tools/scale_stats.py CONFIG --out work_dirs/fig2 \\
        --num-samples 500
"""
import argparse
import copy
import json
import os
import os.path as osp
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.utils import import_modules_from_strings  # noqa: E402

MODES = ('as_is', 'cus', 'isus')
WRAPPER = 'ClassUniformDataset'
#: ``featmap_strides`` of mmdet's Mask R-CNN RoI extractor (and ISUSResize).
DEFAULT_FEATMAP_STRIDES = (4, 8, 16, 32)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Fig. 2: crop IoU and object scale statistics')
    parser.add_argument('config', help='config file with train_dataloader')
    parser.add_argument('--out', required=True, help='output directory')
    parser.add_argument(
        '--num-samples',
        type=int,
        default=200,
        help='training samples drawn per mode')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, default={},
        help='override config settings, e.g. '
        'train_dataloader.dataset.dataset.data_root=data/synthetic_large/')
    return parser.parse_args(argv)


def level_rule(cfg: Config) -> Tuple[float, int]:
    """``(finest_scale, num_levels)`` of the model's RoI level rule.

    The model's RoI extractor, else the ISUS step's ``level_rule``, gives
    ``finest_scale`` and ``featmap_strides``; the number of
    levels is ``len(featmap_strides)``, as in mmdet's ``map_roi_levels``.
    """
    extractor = cfg.get('model', {}).get('roi_head',
                                         {}).get('bbox_roi_extractor', None)
    if extractor is not None and 'featmap_strides' in extractor:
        return (float(extractor.get('finest_scale',
                                    56)), len(extractor['featmap_strides']))
    for t in _inner_dataset_cfg(cfg).get('pipeline', []):
        if t.get('type') == 'ISUSResize' and t.get('level_rule'):
            rule = t['level_rule']
            strides = rule.get('featmap_strides', DEFAULT_FEATMAP_STRIDES)
            return float(rule.get('finest_scale', 56)), len(strides)
    return 56.0, len(DEFAULT_FEATMAP_STRIDES)


def _inner_dataset_cfg(cfg: Config) -> dict:
    ds = cfg.train_dataloader.dataset
    return ds.dataset if ds.get('type') == WRAPPER else ds


def mode_configs(cfg: Config) -> Dict[str, Tuple[dict, Optional[dict]]]:
    """Per mode: the inner dataset config and the wrapper kwargs (or None).

    Args:
        cfg (Config): The full config.

    Returns:
        dict: ``mode -> (dataset_cfg, wrapper_kwargs | None)``.
    """
    ds = cfg.train_dataloader.dataset
    wrapper_kwargs = {} if ds.get('type') != WRAPPER else {
        k: v
        for k, v in ds.items() if k not in ('type', 'dataset', 'lazy_init')
    }
    inner = copy.deepcopy(_inner_dataset_cfg(cfg))
    has_isus = any(
        t.get('type') == 'ISUSResize' for t in inner.get('pipeline', []))
    modes = {}
    for mode in MODES:
        if mode == 'isus' and not has_isus:
            warnings.warn('no ISUSResize in the pipeline: isus mode skipped')
            continue
        ds_cfg = copy.deepcopy(inner)
        for t in ds_cfg.get('pipeline', []):
            if t.get('type') == 'ISUSResize':
                t['isus'] = mode == 'isus'
                # the pre-crop extents are read from the resized id map
                t['lazy'] = False
        modes[mode] = (ds_cfg, None if mode == 'as_is' else wrapper_kwargs)
    return modes


def _box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise IoU of two (N, 4) box arrays."""
    lt = np.maximum(a[:, :2], b[:, :2])
    rb = np.minimum(a[:, 2:], b[:, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=1)
    area = lambda x: np.prod(np.clip(x[:, 2:] - x[:, :2], 0, None), axis=1)
    union = area(a) + area(b) - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def _pixel_boxes(results: dict) -> np.ndarray:
    """Tight boxes of the instances' pixels (fall back to ``gt_bboxes``)."""
    from mmdet.structures.mask import BitmapMasks
    from mmpanoptic_cabb.datasets.transforms.inst_map_ops import \
        boxes_from_inst_map
    boxes = results['gt_bboxes']
    num = len(boxes)
    if isinstance(results.get('gt_masks'), BitmapMasks):
        return results['gt_masks'].get_bboxes('hbox').numpy().astype(
            np.float64)
    if results.get('gt_inst_map') is not None:
        return boxes_from_inst_map(results['gt_inst_map'],
                                   num)[0].astype(np.float64)
    return np.asarray(
        getattr(boxes, 'numpy', lambda: boxes)(),
        dtype=np.float64).reshape(-1, 4)


def run_sample(transforms: list, results: dict, crop_types: tuple,
               pack_types: tuple) -> Optional[Tuple[dict, list]]:
    """Run the pipeline up to packing, measuring each crop.

    Returns:
        tuple | None: Final results and a list of ``(pre_crop_box,
        cropped_box)`` arrays for each crop; None if a transform dropped
        the sample.
    """
    crops = []
    for t in transforms:
        if isinstance(t, pack_types):
            break
        if isinstance(t, crop_types) and results.get('gt_bboxes') is not None:
            pre = _pixel_boxes(results)
            results['gt_instances_ids'] = np.arange(len(pre))
            h_before = results.get('homography_matrix', None)
            h_before = np.eye(3) if h_before is None else h_before
            results = t(results)
            if results is None:
                return None
            step = results['homography_matrix'] @ np.linalg.inv(h_before)
            post = results['gt_bboxes']
            post = np.asarray(
                getattr(post, 'numpy', lambda: post)(),
                dtype=np.float64).reshape(-1, 4)
            ids = results.pop('gt_instances_ids')
            shift = np.array([step[0, 2], step[1, 2]] * 2)
            crops.append((pre[ids], post - shift))
        else:
            results = t(results)
            if results is None:
                return None
    return results, crops


def collect(mode: str, ds_cfg: dict, wrapper_kwargs: Optional[dict],
            num_samples: int, seed: int, finest_scale: float,
            num_levels: int) -> dict:
    """Sample one mode and gather its statistics."""
    from mmdet.datasets.transforms import PackDetInputs, RandomCrop
    from mmdet.registry import DATASETS
    from mmpanoptic_cabb.datasets.samplers import ClassUniformDataset
    from mmpanoptic_cabb.datasets.transforms.isus_scale import (box_scale,
                                                                pyramid_level)
    dataset = DATASETS.build(ds_cfg)
    wrapper = None
    if wrapper_kwargs is not None:
        kwargs = dict(wrapper_kwargs, seed=seed)
        wrapper = ClassUniformDataset(dataset=dataset, **kwargs)
    transforms = dataset.pipeline.transforms
    rng = np.random.default_rng(seed)
    np.random.seed(seed)
    scales, crop_ious, crop_scales, sampled_levels = [], [], [], []
    kept = 0
    for i in range(num_samples):
        if wrapper is None:
            info = dataset.get_data_info(int(rng.integers(len(dataset))))
        else:
            info = wrapper.get_data_info(i)
        out = run_sample(transforms, info, (RandomCrop, ), (PackDetInputs, ))
        if out is None:
            continue
        results, crops = out
        kept += 1
        if results.get('gt_bboxes') is not None:
            scales += box_scale(results['gt_bboxes'].numpy()).tolist()
        for pre, post in crops:
            crop_ious += _box_iou(pre, post).tolist()
            crop_scales += box_scale(pre).tolist()
        if results.get('isus_level', -1) >= 0:
            sampled_levels.append(int(results['isus_level']))
    scales_arr = np.asarray(scales, dtype=np.float64)
    levels = pyramid_level(scales_arr[scales_arr > 0], finest_scale,
                           num_levels)
    counts = np.bincount(np.atleast_1d(levels), minlength=num_levels)
    return dict(
        mode=mode,
        num_samples=kept,
        num_instances=int(scales_arr.size),
        scales=scales,
        level_fractions=(counts / max(counts.sum(), 1)).tolist(),
        sampled_level_counts=np.bincount(sampled_levels,
                                         minlength=num_levels).tolist(),
        crop_ious=crop_ious,
        crop_scales=crop_scales,
        mean_crop_iou=float(np.mean(crop_ious)) if crop_ious else None)


def annotation_scales(ds_cfg: dict) -> List[float]:
    """Box scales of the annotations at original resolution."""
    from mmdet.registry import DATASETS
    dataset = DATASETS.build(dict(ds_cfg, pipeline=[]))
    scales = []
    for i in range(len(dataset)):
        for inst in dataset.get_data_info(i).get('instances', []):
            x1, y1, x2, y2 = inst['bbox']
            scales.append(float(np.sqrt(max(x2 - x1, 0) * max(y2 - y1, 0))))
    return scales


def plot(stats: Dict[str, dict], ann_scales: List[float], out_dir: str,
         finest_scale: float, num_levels: int) -> None:
    """Write ``crop_iou.png`` and ``scale_distribution.png``."""
    fig, (ax_bin, ax_hist) = plt.subplots(1, 2, figsize=(12, 4.5))
    for mode, s in stats.items():
        ious, pre = np.asarray(s['crop_ious']), np.asarray(s['crop_scales'])
        if ious.size == 0:
            continue
        log_s = np.log2(np.maximum(pre, 1))
        edges = np.arange(np.floor(log_s.min()), np.ceil(log_s.max()) + 1)
        if edges.size < 2:
            edges = np.array([log_s.min(), log_s.min() + 1])
        idx = np.clip(np.digitize(log_s, edges) - 1, 0, edges.size - 2)
        means = [
            ious[idx == b].mean() if (idx == b).any() else np.nan
            for b in range(edges.size - 1)
        ]
        ax_bin.plot(2**(edges[:-1] + 0.5), means, marker='o', label=mode)
        ax_hist.hist(
            ious,
            bins=20,
            range=(0, 1),
            alpha=0.5,
            density=True,
            label=f'{mode} (mean {ious.mean():.2f})')
    ax_bin.set_xscale('log', base=2)
    ax_bin.set_xlabel('original box scale sqrt(wh) before the crop [px]')
    ax_bin.set_ylabel('mean IoU(cropped box, original extent)')
    ax_bin.set_ylim(0, 1.05)
    ax_hist.set_xlabel('IoU(cropped box, original extent)')
    ax_hist.set_ylabel('density')
    for ax in (ax_bin, ax_hist):
        ax.legend()
    fig.tight_layout()
    fig.savefig(osp.join(out_dir, 'crop_iou.png'), dpi=100)
    plt.close(fig)

    fig, (ax_scale, ax_level) = plt.subplots(1, 2, figsize=(12, 4.5))
    series = dict(annotations=ann_scales)
    series.update({m: s['scales'] for m, s in stats.items()})
    all_scales = np.concatenate(
        [np.asarray(v, dtype=np.float64)
         for v in series.values()] + [np.ones(1)])
    all_scales = all_scales[all_scales > 0]
    bins = np.logspace(
        np.log2(all_scales.min()),
        np.log2(all_scales.max()) + 1e-6,
        30,
        base=2)
    for name, values in series.items():
        values = np.asarray(values, dtype=np.float64)
        if values.size:
            ax_scale.hist(
                values[values > 0],
                bins=bins,
                histtype='step',
                density=True,
                linewidth=1.5,
                label=name)
    for lvl in range(1, num_levels):
        ax_scale.axvline(finest_scale * 2**lvl, color='grey', ls=':')
    ax_scale.set_xscale('log', base=2)
    ax_scale.set_xlabel('box scale sqrt(wh) [px] (dotted: level bounds)')
    ax_scale.set_ylabel('density')
    ax_scale.legend()
    width = 0.8 / max(len(stats), 1)
    for j, (mode, s) in enumerate(stats.items()):
        ax_level.bar(
            np.arange(num_levels) + (j - (len(stats) - 1) / 2) * width,
            s['level_fractions'],
            width=width,
            label=mode)
    ax_level.set_xticks(range(num_levels))
    ax_level.set_xlabel(f'pyramid level (finest_scale={finest_scale:g})')
    ax_level.set_ylabel('fraction of training instances')
    ax_level.legend()
    fig.tight_layout()
    fig.savefig(osp.join(out_dir, 'scale_distribution.png'), dpi=100)
    plt.close(fig)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, dict]:
    """Run the analysis; returns the per-mode statistics."""
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    if cfg.get('custom_imports', None):
        import_modules_from_strings(**cfg['custom_imports'])
    import mmpanoptic_cabb  # noqa: F401  (registers our modules)
    os.makedirs(args.out, exist_ok=True)
    finest_scale, num_levels = level_rule(cfg)
    stats = {}
    for mode, (ds_cfg, wrapper_kwargs) in mode_configs(cfg).items():
        stats[mode] = collect(mode, ds_cfg, wrapper_kwargs, args.num_samples,
                              args.seed, finest_scale, num_levels)
    ann = annotation_scales(_inner_dataset_cfg(cfg))
    plot(stats, ann, args.out, finest_scale, num_levels)
    summary = dict(
        finest_scale=finest_scale,
        num_levels=num_levels,
        annotation_scales=ann,
        modes=stats)
    with open(osp.join(args.out, 'stats.json'), 'w') as f:
        json.dump(summary, f)
    for mode, s in stats.items():
        iou = s['mean_crop_iou']
        print(f'{mode:>6}: {s["num_samples"]} samples, '
              f'{s["num_instances"]} instances, mean crop IoU '
              f'{"n/a" if iou is None else f"{iou:.3f}"}, level fractions ' +
              ' '.join(f'{x:.2f}' for x in s['level_fractions']))
    return stats


if __name__ == '__main__':
    main()
