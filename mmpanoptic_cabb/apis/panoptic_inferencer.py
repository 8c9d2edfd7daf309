"""``PanopticInferencer``: images in, panoptic maps, COCO files and overlays out."""
import copy
import json
import os
import os.path as osp
from datetime import datetime
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config, ConfigDict
from mmengine.dataset import Compose
from mmengine.infer import BaseInferencer

from mmpanoptic_cabb.utils.errors import (ToolInputError, check_writable_dir,
                                          read_image)
from mmpanoptic_cabb.utils.progress import track
from .inference import init_panoptic_model, resolve_config
from .panoptic_output import instances_to_dict, to_coco_panoptic

InputType = Union[str, np.ndarray]
#: File extensions taken from a folder given as input.
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff',
                    '.webp')


class PanopticInferencer(BaseInferencer):
    """Panoptic segmentation of images, folders and arrays (cf. mmdet's
    ``DetInferencer``).

    Builds the model with :func:`init_panoptic_model` (config file, or the
    name of a config under ``configs/``, and a checkpoint; clear errors for a
    missing config and a checkpoint of another class count), runs the
    config's test pipeline on each image and returns, per image, its
    ``name``, the COCO panoptic ``panoptic_seg`` (uint32 segment ids
    ``1..K``, 0 void), ``segments_info`` and the detector's ``instances``.

    With ``out_dir`` it writes, as it goes (a failure keeps what was
    written, and the JSON files list the images done):

    - ``panoptic/<name>.png``: COCO panoptic PNG
      (``id = R + 256 G + 256² B``);
    - ``panoptic.json``: ``images``, ``annotations`` (``file_name``,
      ``segments_info``) and ``categories`` (``id``, ``name``, ``isthing``;
      ids of ``test_evaluator.ann_file`` when that file exists, else the
      labels);
    - ``instances.json``: per image, boxes, labels, category ids and scores;
    - ``vis/<name>.png``: the overlay drawn by the config's visualizer
      (``PanopticVisualizer``).

    Args:
        model (str | Config): Config file, config name or config object.
        weights (str, optional): Checkpoint; None keeps random weights.
        device (str): Device. Defaults to 'cpu'.
        cfg_options (dict, optional): Overrides merged into the config.
        show_progress (bool, optional): Progress bar over the batches (on
            stderr, with ETA); None shows it on a terminal
            (:mod:`mmpanoptic_cabb.utils.progress`). Defaults to None.
    """

    preprocess_kwargs: set = set()
    forward_kwargs: set = set()
    visualize_kwargs: set = {'show', 'wait_time', 'vis_out_dir'}
    postprocess_kwargs: set = set()

    def __init__(self,
                 model: Union[str, Config],
                 weights: Optional[str] = None,
                 device: str = 'cpu',
                 cfg_options: Optional[dict] = None,
                 show_progress: Optional[bool] = None) -> None:
        if isinstance(model, str):
            cfg = Config.fromfile(resolve_config(model))
        elif isinstance(model, (Config, ConfigDict)):
            cfg = copy.deepcopy(model)
        else:
            raise TypeError(f'model must be a config path, name or Config, '
                            f'not {type(model).__name__}')
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        super().__init__(model=cfg, weights=weights, device=device,
                         scope='mmdet')
        self.show_progress = show_progress
        meta = self.model.dataset_meta
        self.classes = list(meta['classes'])
        self.num_things = len(meta.get('thing_classes', self.classes))
        self.cat_ids = self._category_ids(cfg)

    # ------------------------------------------------------------ set-up
    def _init_model(self, cfg: Config, weights: Optional[str],
                    device: str = 'cpu') -> torch.nn.Module:
        return init_panoptic_model(cfg, weights, device=device)

    def _init_pipeline(self, cfg: Config) -> Compose:
        """The test pipeline, loading from the arrays this class reads."""
        pipeline = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
        loaders = [k for k, step in enumerate(pipeline)
                   if step['type'] in ('LoadImageFromFile',
                                       'mmdet.LoadImageFromFile')]
        if not loaders:
            raise ToolInputError('the test pipeline has no LoadImageFromFile')
        pipeline[loaders[0]] = dict(type='mmdet.LoadImageFromNDArray')
        from mmengine.registry import init_default_scope
        init_default_scope('mmdet')
        return Compose(pipeline)

    def _init_visualizer(self, cfg: Config):
        from mmdet.registry import VISUALIZERS
        from mmengine.visualization import Visualizer
        if 'visualizer' not in cfg:
            return None
        vis_cfg = copy.deepcopy(cfg.visualizer)
        vis_cfg.pop('vis_backends', None)  # drawings go to files
        name = f'panoptic_inferencer-{datetime.now().timestamp()}'
        while Visualizer.check_instance_created(name):
            name += '_'
        vis_cfg['name'] = name
        visualizer = VISUALIZERS.build(vis_cfg)
        visualizer.dataset_meta = self.model.dataset_meta
        return visualizer

    def _category_ids(self, cfg: Config) -> List[int]:
        ann_file = (cfg.get('test_evaluator') or {}).get('ann_file')
        if isinstance(ann_file, str) and osp.isfile(ann_file):
            with open(ann_file, encoding='utf-8') as f:
                by_name = {c['name']: c['id']
                           for c in json.load(f).get('categories', [])}
            if all(c in by_name for c in self.classes):
                return [int(by_name[c]) for c in self.classes]
        return list(range(len(self.classes)))

    def categories(self) -> List[dict]:
        """The COCO ``categories`` of the written JSON."""
        return [dict(id=int(c), name=n, isthing=int(k < self.num_things))
                for k, (c, n) in enumerate(zip(self.cat_ids, self.classes))]

    # ------------------------------------------------------------ inputs
    def named_inputs(self, inputs) -> List[Tuple[str, InputType]]:
        """``(name, image or path)`` of every input, folders expanded.

        Raises:
            ToolInputError: A path that does not exist, a folder without
                images.
        """
        items = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        expanded: List[InputType] = []
        for item in items:
            if isinstance(item, str) and osp.isdir(item):
                files = sorted(
                    osp.join(item, f) for f in os.listdir(item)
                    if f.lower().endswith(IMAGE_EXTENSIONS))
                if not files:
                    raise ToolInputError(f'folder {item!r} holds no image '
                                         f'({", ".join(IMAGE_EXTENSIONS)})')
                expanded.extend(files)
            elif isinstance(item, str):
                if not osp.isfile(item):
                    raise ToolInputError(
                        f'image file {item!r} does not exist')
                expanded.append(item)
            elif isinstance(item, np.ndarray):
                expanded.append(item)
            else:
                raise ToolInputError(f'inputs are image paths, folders or '
                                     f'arrays, not {type(item).__name__}')
        named, used = [], set()
        for k, item in enumerate(expanded):
            base = osp.splitext(osp.basename(item))[0] \
                if isinstance(item, str) else f'{k:08d}'
            name, n = base, 1
            while name in used:
                name, n = f'{base}_{n}', n + 1
            used.add(name)
            named.append((name, item))
        return named

    def _batches(self, named: Sequence[Tuple[str, InputType]],
                 batch_size: int) -> Iterator[list]:
        for start in range(0, len(named), batch_size):
            yield list(named[start:start + batch_size])

    # ------------------------------------------------------------ run
    def __call__(self,
                 inputs,
                 batch_size: int = 1,
                 out_dir: Optional[str] = None,
                 show: bool = False,
                 wait_time: float = 0,
                 no_save_vis: bool = False,
                 no_save_pred: bool = False,
                 return_vis: bool = False,
                 return_datasamples: bool = False) -> dict:
        """Segment the inputs.

        Args:
            inputs (str | np.ndarray | Sequence): Image path(s), folder(s)
                (their images, sorted) or BGR array(s).
            batch_size (int): Images per forward pass. Defaults to 1.
            out_dir (str, optional): Output folder (see the class).
            show (bool): Show every overlay in a window.
            wait_time (float): Seconds to show it.
            no_save_vis (bool): Do not write the overlays.
            no_save_pred (bool): Do not write the PNGs and JSON files.
            return_vis (bool): Return the overlays (RGB arrays).
            return_datasamples (bool): Return the ``DetDataSample``
                predictions instead of dicts.

        Returns:
            dict: ``predictions`` (per image: ``name``, ``panoptic_seg``,
            ``segments_info``, ``instances``; or data samples) and
            ``visualization`` (list of arrays, or None).

        Raises:
            ToolInputError: Unreadable image (named), missing path, output
                folder not writable.
        """
        named = self.named_inputs(inputs)
        if out_dir:
            check_writable_dir(out_dir)
        writer = None
        if out_dir and not no_save_pred:
            writer = CocoPanopticWriter(out_dir, self.categories())
        vis_dir = osp.join(out_dir, 'vis') if out_dir and not no_save_vis \
            else ''
        predictions, visualization = [], []
        batches = self._batches(named, batch_size)
        batches = track(batches, total=-(-len(named) // batch_size),
                        description=f'inference: {len(named)} images',
                        enabled=self.show_progress)
        try:
            for batch in batches:
                images = [item if isinstance(item, np.ndarray) else
                          read_image(item) for _, item in batch]
                data = self.collate_fn(
                    [self.pipeline(dict(img=img)) for img in images])
                preds = self.forward(data)
                vis = self.visualize(images, preds, show=show,
                                     wait_time=wait_time,
                                     vis_out_dir=vis_dir,
                                     names=[n for n, _ in batch],
                                     draw=bool(return_vis or show or vis_dir))
                for (name, item), pred in zip(batch, preds):
                    record = self.pred2dict(name, pred)
                    if isinstance(item, str):
                        record['img_path'] = item
                    if writer is not None:
                        writer.add(record)
                    predictions.append(pred if return_datasamples else record)
                if return_vis and vis:
                    visualization.extend(vis)
        finally:
            if writer is not None:
                writer.close()
        return dict(predictions=predictions,
                    visualization=visualization if return_vis else None)

    def visualize(self, inputs: list, preds: list, show: bool = False,
                  wait_time: float = 0, vis_out_dir: str = '',
                  names: Optional[Sequence[str]] = None,
                  draw: bool = True) -> Optional[List[np.ndarray]]:
        """Draw the predictions over the (BGR) input images.

        Returns:
            list[np.ndarray] | None: RGB drawings; None when nothing is
            drawn (no window, no file, nothing returned).
        """
        if not draw or self.visualizer is None:
            return None
        names = names or [f'{k:08d}' for k in range(len(inputs))]
        drawings = []
        for image, pred, name in zip(inputs, preds, names):
            out_file = osp.join(vis_out_dir, name + '.png') \
                if vis_out_dir else None
            self.visualizer.add_datasample(
                name, image[..., ::-1], pred, draw_gt=False, show=show,
                wait_time=wait_time, out_file=out_file)
            drawings.append(self.visualizer.get_image())
        return drawings

    def postprocess(self, preds: list, visualization=None,
                    return_datasample: bool = False, **kwargs) -> dict:
        """Predictions as dicts (or data samples) with the drawings."""
        return dict(
            predictions=preds if return_datasample else
            [self.pred2dict(f'{k:08d}', p) for k, p in enumerate(preds)],
            visualization=visualization)

    def pred2dict(self, name: str, pred) -> dict:
        """One prediction in the COCO panoptic layout.

        Returns:
            dict: ``name``, ``panoptic_seg`` ((H, W) uint32, segments
            ``1..K``, 0 void), ``segments_info`` and ``instances``
            (:func:`.panoptic_output.instances_to_dict`; empty without an
            instance branch).
        """
        pan = pred.pred_panoptic_seg.sem_seg
        pan = pan.detach().cpu().numpy() if hasattr(pan, 'detach') else pan
        pan = np.asarray(pan).reshape(pan.shape[-2:])
        seg_map, segments = to_coco_panoptic(pan, len(self.classes),
                                             self.num_things, self.cat_ids)
        instances = {}
        if 'pred_instances' in pred:
            instances = instances_to_dict(pred.pred_instances, self.cat_ids)
        return dict(name=name, panoptic_seg=seg_map, segments_info=segments,
                    instances=instances)


class CocoPanopticWriter:
    """Writes the PNGs as they come and the JSON files on :meth:`close`.

    Args:
        out_dir (str): Output folder (``panoptic/``, ``panoptic.json``,
            ``instances.json``).
        categories (list[dict]): COCO ``categories``.
    """

    def __init__(self, out_dir: str, categories: List[dict]) -> None:
        self.out_dir = out_dir
        self.png_dir = check_writable_dir(osp.join(out_dir, 'panoptic'))
        self.categories = categories
        self.images: List[dict] = []
        self.annotations: List[dict] = []
        self.instances: Dict[str, dict] = {}

    def add(self, record: dict) -> None:
        """Write one image's PNG and keep its JSON entries."""
        from mmpanoptic_cabb.structures.panoptic_png import write_panoptic_png
        file_name = record['name'] + '.png'
        write_panoptic_png(osp.join(self.png_dir, file_name),
                           record['panoptic_seg'])
        image_id = len(self.images)
        h, w = record['panoptic_seg'].shape
        self.images.append(
            dict(id=image_id, file_name=osp.basename(
                record.get('img_path') or file_name), height=int(h),
                 width=int(w)))
        self.annotations.append(
            dict(image_id=image_id, file_name=file_name,
                 segments_info=record['segments_info']))
        self.instances[record['name']] = record['instances']

    def close(self) -> None:
        """Write ``panoptic.json`` and ``instances.json``."""
        with open(osp.join(self.out_dir, 'panoptic.json'), 'w',
                  encoding='utf-8') as f:
            json.dump(dict(images=self.images, annotations=self.annotations,
                           categories=self.categories), f)
        with open(osp.join(self.out_dir, 'instances.json'), 'w',
                  encoding='utf-8') as f:
            json.dump(self.instances, f)
