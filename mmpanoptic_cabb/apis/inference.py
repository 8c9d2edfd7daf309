"""Inference API: build a panoptic model from a config and run it on images."""
import copy
import glob
import os.path as osp
import warnings
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmcv.transforms import Compose
from mmengine.config import Config

from mmdet.structures import DetDataSample
from mmpanoptic_cabb.utils.errors import ToolInputError

ImageType = Union[str, np.ndarray]

#: The ``configs/`` folder of the repository this package lives in.
CONFIGS_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs')


def resolve_config(config: str) -> str:
    """A config path, or the file of a config named so under ``configs/``.

    Args:
        config (str): A config file path, or the name of a config of
            ``configs/`` (``'seamless_hrnet-slim_crop-256_1200i_synthetic'``,
            with or without ``.py``).

    Returns:
        str: The config file path.

    Raises:
        ToolInputError: If neither exists (the message names both places).
    """
    if osp.isfile(config):
        return config
    name = osp.basename(config)
    name = name if name.endswith('.py') else name + '.py'
    found = sorted(glob.glob(osp.join(CONFIGS_DIR, '**', name),
                             recursive=True))
    if config == osp.basename(config) and found:
        return found[0]
    raise ToolInputError(
        f'config file {config!r} does not exist (nor is it the name of a '
        f'config under {CONFIGS_DIR})')


def class_counts(state_dict: Dict[str, torch.Tensor]) -> Dict[str, int]:
    """Class counts a panoptic segmentor's weights were trained for.

    Args:
        state_dict (dict): The model's or a checkpoint's ``state_dict``.

    Returns:
        dict[str, int]: ``things`` (rows of the RoI classifier minus the
        background row) and ``classes`` (output channels of the semantic
        head's classifier) for the entries present.
    """
    counts = {}
    fc_cls = state_dict.get('roi_head.bbox_head.fc_cls.weight')
    if fc_cls is not None:
        counts['things'] = int(fc_cls.shape[0]) - 1
    seg = [k for k in state_dict
           if k.startswith('semantic_head.') and k.endswith('conv_seg.weight')]
    if len(seg) == 1:
        counts['classes'] = int(state_dict[seg[0]].shape[0])
    return counts


def check_class_counts(model: torch.nn.Module, checkpoint: dict,
                       path: str) -> None:
    """Refuse a checkpoint trained for other classes than the config's.

    Args:
        model (nn.Module): The model built from the config.
        checkpoint (dict): The loaded checkpoint.
        path (str): Its file (named in the error).

    Raises:
        ToolInputError: With both class counts, when they differ.
    """
    state = checkpoint.get('state_dict', checkpoint)
    state = {k[len('module.'):] if k.startswith('module.') else k: v
             for k, v in state.items()}
    ours, theirs = class_counts(model.state_dict()), class_counts(state)
    meta = checkpoint.get('meta', {}).get('dataset_meta', {})
    for key in ('classes', 'things'):
        if key in ours and key in theirs and ours[key] != theirs[key]:
            names = meta.get('classes') or meta.get('CLASSES')
            named = f' ({", ".join(map(str, names))})' if names else ''
            raise ToolInputError(
                f'checkpoint {path!r} was trained for {theirs[key]} '
                f'{"thing " if key == "things" else ""}classes{named}, but '
                f'the config has {ours[key]} '
                f'{"thing " if key == "things" else ""}classes: use the '
                'config the checkpoint was trained with')


def dataset_meta_from_cfg(cfg: Config) -> dict:
    """The test dataset's ``metainfo`` (classes, thing/stuff classes,
    palette), built without reading the annotations."""
    from mmdet.registry import DATASETS
    dataset_cfg = copy.deepcopy(cfg.test_dataloader.dataset)
    dataset_cfg['lazy_init'] = True
    return dict(DATASETS.build(dataset_cfg).metainfo)


def init_panoptic_model(config: Union[str, Config],
                        checkpoint: Optional[str] = None,
                        device: str = 'cpu',
                        cfg_options: Optional[dict] = None):
    """Build a panoptic segmentor from a config file and load a checkpoint.

    Registers mmpanoptic_cabb's modules (the config's ``custom_imports``).
    ``model.dataset_meta`` is that stored in the checkpoint, else the test
    dataset's ``metainfo`` (classes, palette), which visualisation needs.

    Args:
        config (str | Config): Config file path, name of a config under
            ``configs/`` or config object.
        checkpoint (str, optional): Checkpoint path; None leaves the weights
            as initialised.
        device (str): Device to put the model on, e.g. ``'cpu'`` or
            ``'cuda:0'``.
        cfg_options (dict, optional): Overrides merged into the config.

    Returns:
        nn.Module: The model in eval mode, with ``dataset_meta`` and ``cfg``
        attached.

    Raises:
        ToolInputError: The config or checkpoint file does not exist, or the
            checkpoint was trained for another number of classes.
    """
    import mmpanoptic_cabb  # noqa: F401  (registration)
    from mmdet.apis import init_detector
    from mmengine.runner import load_checkpoint
    from mmpanoptic_cabb.utils import load_checkpoint_file
    if isinstance(config, str):
        config = Config.fromfile(resolve_config(config))
    else:
        config = copy.deepcopy(config)
    if checkpoint is not None and not osp.isfile(checkpoint):
        raise ToolInputError(f'checkpoint file {checkpoint!r} does not exist')
    with warnings.catch_warnings():
        # mmdet warns that it falls back to COCO's classes without weights
        warnings.simplefilter('ignore')
        model = init_detector(config, None, device='cpu',
                              cfg_options=cfg_options)
    model.dataset_meta = dataset_meta_from_cfg(model.cfg)
    if checkpoint is not None:
        ckpt = load_checkpoint_file(checkpoint, map_location='cpu')
        check_class_counts(model, ckpt, checkpoint)
        load_checkpoint(model, checkpoint, map_location='cpu')
        meta = ckpt.get('meta', {}).get('dataset_meta')
        if meta:
            model.dataset_meta.update({k.lower(): v for k, v in meta.items()})
    model.to(device)
    model.eval()
    return model


def inference_panoptic(model, imgs: Union[ImageType, Sequence[ImageType]]
                       ) -> Union[DetDataSample, List]:
    """Run a panoptic segmentor on one image or a list of images (full resolution pipeline).

    The test pipeline is built from a copy of ``model.cfg``: mmdet's ``inference_detector``
    otherwise switches the loading step of the model's own config to ``LoadImageFromNDArray``
    for array inputs, which breaks every later call on file paths.

    Args:
        model (nn.Module): Model from :func:`init_panoptic_model`.
        imgs (str | np.ndarray | Sequence): Image file(s) or BGR array(s), not mixed in one
            call.

    Returns:
        DetDataSample | list: Predictions with ``pred_panoptic_seg`` (ids ``label + instance
        * INSTANCE_OFFSET``; void = number of classes) and, for two-stage models,
        ``pred_instances``.

    Raises:
        ToolInputError: An image file that does not exist or cannot be read.
    """
    from mmdet.apis import inference_detector
    from mmdet.utils import get_test_pipeline_cfg
    from mmpanoptic_cabb.utils.errors import read_image
    many = isinstance(imgs, (list, tuple))
    first = imgs[0] if many else imgs
    pipeline = copy.deepcopy(get_test_pipeline_cfg(model.cfg))
    if isinstance(first, np.ndarray):
        pipeline[0]['type'] = 'mmdet.LoadImageFromNDArray'
    try:
        return inference_detector(model, imgs,
                                  test_pipeline=Compose(pipeline))
    except Exception:
        # name the file mmcv's loader could not read (its own error is an
        # assertion or a decoder error)
        for img in (imgs if many else [imgs]):
            if isinstance(img, str):
                read_image(img)
        raise
