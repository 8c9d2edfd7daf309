"""Inference API: build a panoptic model from a config and run it on images."""
import copy
from typing import Optional, Sequence, Union

import numpy as np
from mmcv.transforms import Compose
from mmdet.apis import inference_detector, init_detector
from mmdet.structures import DetDataSample
from mmdet.utils import get_test_pipeline_cfg
from mmengine.config import Config

ImageType = Union[str, np.ndarray]


def init_panoptic_model(config: Union[str, Config],
                        checkpoint: Optional[str] = None,
                        device: str = 'cpu',
                        cfg_options: Optional[dict] = None):
    """Build a panoptic segmentor from a config file and load a checkpoint.

    Registers mmpanoptic_cabb's modules (the config's ``custom_imports``) and keeps the dataset
    meta information stored in the checkpoint, which visualisation needs.

    Args:
        config (str | Config): Config file path or object.
        checkpoint (str, optional): Checkpoint path; None leaves the weights as initialised.
        device (str): Device to put the model on, e.g. ``'cpu'`` or ``'cuda:0'``.
        cfg_options (dict, optional): Overrides merged into the config.

    Returns:
        nn.Module: The model in eval mode, with ``dataset_meta`` and ``cfg`` attached.
    """
    import mmpanoptic_cabb  # noqa: F401  (registration)
    return init_detector(config, checkpoint, device=device,
                         cfg_options=cfg_options)


def inference_panoptic(model, imgs: Union[ImageType, Sequence[ImageType]]
                       ) -> Union[DetDataSample, list]:
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
    """
    first = imgs[0] if isinstance(imgs, (list, tuple)) else imgs
    pipeline = copy.deepcopy(get_test_pipeline_cfg(model.cfg))
    if isinstance(first, np.ndarray):
        pipeline[0]['type'] = 'mmdet.LoadImageFromNDArray'
    return inference_detector(model, imgs, test_pipeline=Compose(pipeline))
