"""Semantic predictions of one checkpoint on training-size crops vs full images.

A crop-trained network sees 256 px windows (synthetic configs) during training
but whole images at test time. This tool evaluates the semantic head of one
checkpoint on the val images rescaled to ``s0`` (as ``tools/test.py`` does) in
three ways and reports pixel accuracy and mIoU over all thing + stuff classes:

- ``full``: the whole image in one pass (BatchNorm running statistics);
- ``crops``: the same image cut into non-overlapping training-size windows,
  each predicted on its own, stitched back;
- ``full_batch_stats``: the whole image with BatchNorm/ABN layers using the
  image's own statistics instead of the running ones (tells whether the
  running statistics, collected from crops, are what breaks full images).

Comparing checkpoints of several seeds tells whether a drop at full
resolution comes from the network's context (``crops`` good, ``full`` bad,
``full_batch_stats`` bad), from the running statistics (``full_batch_stats``
good) or from training itself (all bad).

Example::

    python tools/analysis_tools/semantic_crop_vs_full.py CONFIG CKPT \\
        --data-root data/synthetic_large --num-images 20 --out stats.json
"""
import argparse
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from torch.nn.modules.batchnorm import _BatchNorm

from mmpanoptic_cabb.apis import init_panoptic_model
from mmpanoptic_cabb.structures.panoptic_png import read_panoptic_png


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Semantic accuracy of a checkpoint on crops vs full '
        'images')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--data-root', help='override the val data root')
    parser.add_argument('--num-images', type=int, default=20,
                        help='first N val images')
    parser.add_argument('--crop', type=int, default=None,
                        help='window size (default: the training crop)')
    parser.add_argument('--out', help='write the numbers to this JSON file')
    return parser.parse_args(argv)


def confusion(pred: np.ndarray, gt: np.ndarray, num_classes: int,
              ignore: int = 255) -> np.ndarray:
    """(C, C) confusion matrix of integer label maps (rows: ground truth)."""
    valid = gt != ignore
    index = gt[valid].astype(np.int64) * num_classes + pred[valid]
    return np.bincount(index, minlength=num_classes**2).reshape(
        num_classes, num_classes)


def summarise(matrix: np.ndarray) -> Dict[str, float]:
    """Pixel accuracy and mIoU (classes present in gt or prediction)."""
    tp = np.diag(matrix).astype(np.float64)
    union = matrix.sum(0) + matrix.sum(1) - tp
    present = union > 0
    return dict(
        pixel_acc=100 * float(tp.sum() / max(matrix.sum(), 1)),
        miou=100 * float((tp[present] / union[present]).mean()))


def _semantic_logits(model, inputs: torch.Tensor) -> torch.Tensor:
    body, pyramid = model.extract_body_and_pyramid(inputs)
    feats = model._semantic_feats(body, pyramid)
    logits = model.semantic_head(feats)['seg_preds']
    return F.interpolate(
        logits, size=inputs.shape[-2:], mode='bilinear', align_corners=False)


def _predict(model, img: torch.Tensor, window: Optional[int]) -> np.ndarray:
    """Argmax labels of a (3, H, W) normalised image, in one pass or tiled."""
    h, w = img.shape[-2:]
    if window is None:
        return _semantic_logits(model, img[None]).argmax(1)[0].numpy()
    out = np.zeros((h, w), dtype=np.int64)
    for y in range(0, h, window):
        for x in range(0, w, window):
            tile = img[:, y:y + window, x:x + window]
            th, tw = tile.shape[-2:]
            pad_h, pad_w = (-th) % 32, (-tw) % 32
            tile = F.pad(tile, (0, pad_w, 0, pad_h))
            pred = _semantic_logits(model, tile[None]).argmax(1)[0]
            out[y:y + th, x:x + tw] = pred[:th, :tw].numpy()
    return out


def _batch_stats(model, enabled: bool) -> None:
    """BatchNorm/ABN layers use each input's own statistics when ``enabled``
    (momentum 0 keeps the running ones untouched); running statistics
    otherwise."""
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            if enabled:
                module._eval_momentum = module.momentum
                module.momentum = 0.0
            elif hasattr(module, '_eval_momentum'):
                module.momentum = module._eval_momentum
            module.train(enabled)


def _gt_labels(info: dict, size) -> np.ndarray:
    """Semantic labels of the panoptic ground truth at ``size`` (255: void);
    crowd regions keep their class, as in the training semantic maps."""
    ids = read_panoptic_png(info['seg_map_path'])
    labels = np.full(ids.shape, 255, dtype=np.uint8)
    for seg in info['segments_info']:
        labels[ids == seg['id']] = seg['category']
    return cv2.resize(labels, (size[1], size[0]),
                      interpolation=cv2.INTER_NEAREST).astype(np.int64)


def evaluate(model, cfg: Config, num_images: int,
             window: int) -> Dict[str, Dict[str, float]]:
    """Pixel accuracy and mIoU of the three modes over the first images."""
    from mmdet.registry import DATASETS
    dataset = DATASETS.build(cfg.val_dataloader.dataset)
    pipeline = Compose(cfg.val_dataloader.dataset.pipeline)
    num_classes = len(dataset.metainfo['classes'])
    matrices = {m: np.zeros((num_classes, num_classes), dtype=np.int64)
                for m in ('full', 'crops', 'full_batch_stats')}
    for index in range(min(num_images, len(dataset))):
        info = dataset.get_data_info(index)
        data = pseudo_collate([pipeline(dict(img_path=info['img_path'],
                                              img_id=info['img_id']))])
        batch = model.data_preprocessor(data, False)
        img = batch['inputs'][0]
        h, w = data['data_samples'][0].metainfo['img_shape']
        gt = _gt_labels(info, (h, w))
        with torch.no_grad():
            _batch_stats(model, False)
            preds = dict(full=_predict(model, img, None),
                         crops=_predict(model, img, window))
            _batch_stats(model, True)
            preds['full_batch_stats'] = _predict(model, img, None)
            _batch_stats(model, False)
        for mode, pred in preds.items():
            matrices[mode] += confusion(pred[:h, :w], gt, num_classes)
    return {mode: summarise(m) for mode, m in matrices.items()}


def training_crop(cfg: Config) -> int:
    """Side of the training crop (the first crop step of the train pipeline)."""
    dataset = cfg.train_dataloader.dataset
    while 'dataset' in dataset:
        dataset = dataset.dataset
    for step in dataset.pipeline:
        if step.type == 'TruncationAwareRandomCrop':
            return int(step.crop_size[0])
    raise ValueError('the training pipeline has no TruncationAwareRandomCrop')


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    options = None
    if args.data_root:
        root = args.data_root.rstrip('/') + '/'
        options = {'val_dataloader.dataset.data_root': root}
    model = init_panoptic_model(args.config, args.checkpoint,
                                cfg_options=options)
    cfg = model.cfg
    window = args.crop or training_crop(cfg)
    results = evaluate(model, cfg, args.num_images, window)
    results['window'] = window
    results['checkpoint'] = osp.abspath(args.checkpoint)
    for mode in ('full', 'crops', 'full_batch_stats'):
        print(f'{mode:>17}: pixel acc {results[mode]["pixel_acc"]:.2f}  '
              f'mIoU {results[mode]["miou"]:.2f}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=1)


if __name__ == '__main__':
    main()
