"""A dataset's values in the shared CROP/CUS dataset base.

``configs/_base_/datasets/panoptic_crop_cus.py`` holds the crop pipeline with
class-uniform sampling, the loaders and the evaluator of every COCO-panoptic
dataset, with ``None`` where a dataset's own value goes. mmengine parses a
base before its child, so the shared base cannot read the child's values; a
dataset base instead inherits it and calls :func:`fill_crop_cus_base` on
``_base_`` (a real ``ConfigDict`` in the body of a text config)::

    _base_ = './panoptic_crop_cus.py'

    from mmpanoptic_cabb.utils.dataset_config import fill_crop_cus_base

    globals().update(fill_crop_cus_base(
        _base_, dataset_type='CityscapesPanopticDataset',
        data_root='data/cityscapes/', s0=1024, stuff_range=(0.5, 2.0),
        crop_size=(512, 512), batch_size=8, epoch_based=True))

The import comes after ``_base_`` so that mmengine parses the file as a plain
text config, and mmengine drops the imported function from the config's
keys. The keys returned override the base's as any child's keys do.
"""
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple


def set_by_type(pipeline: Sequence[Mapping[str, Any]], step_type: str,
                **values: Any) -> List[Mapping[str, Any]]:
    """Set values in the steps of a pipeline that have a given type.

    Args:
        pipeline (Sequence[Mapping[str, Any]]): The step configs; not
            modified.
        step_type (str): The ``type`` of the steps to change.
        **values: The keys to set in those steps.

    Returns:
        List[Mapping[str, Any]]: A new list: each step of ``step_type`` as a
        new dict with ``values`` set, the other steps as they were.

    Raises:
        KeyError: If no step of the pipeline has type ``step_type``.
    """
    types = [step['type'] for step in pipeline]
    if step_type not in types:
        raise KeyError(f'no {step_type!r} step in the pipeline (its steps: '
                       f'{", ".join(map(str, types))}); the dataset values '
                       f'{sorted(values)} go in that step')
    return [
        dict(step, **values) if step['type'] == step_type else step
        for step in pipeline
    ]


def fill_crop_cus_base(base: Mapping[str, Any],
                       *,
                       dataset_type: str,
                       data_root: str,
                       s0: int,
                       stuff_range: Tuple[float, float],
                       crop_size: Tuple[int, int],
                       batch_size: int,
                       epoch_based: bool = False,
                       num_workers: Optional[int] = None) -> Dict[str, Any]:
    """The top-level keys of a dataset base on the shared CROP/CUS base.

    The values go in the inherited steps, found by type: ``s0`` and
    ``stuff_range`` in ``ISUSResize`` (``short_side``, ``stuff_range``),
    ``crop_size`` in ``TruncationAwareRandomCrop`` and the inference scale
    ``(8 * s0, s0)`` (shortest side ``s0``) in the test ``Resize``. The
    loaders and the evaluators are given as the partial dicts a child config
    would state; mmengine merges them into the base's.

    Args:
        base (Mapping[str, Any]): The inherited config (``_base_``), with
            ``train_pipeline`` and ``test_pipeline``.
        dataset_type (str): The registered dataset class.
        data_root (str): The converted dataset's root, ending with ``/``.
        s0 (int): Shortest side after the initial rescale (paper: s_0).
        stuff_range (Tuple[float, float]): Range of the scale factor drawn
            for stuff classes (paper: r_st).
        crop_size (Tuple[int, int]): Training crop, (height, width).
        batch_size (int): Crops per GPU.
        epoch_based (bool): Whether the schedule counts epochs: the
            class-uniform sampler then hands out a fresh block of draw ids
            every epoch (``infinite=False``; an epoch is as many draws as
            there are training images) instead of one endless stream.
            Defaults to False.
        num_workers (int, optional): Training loader workers; None keeps the
            base's. Defaults to None.

    Returns:
        Dict[str, Any]: ``dataset_type``, ``data_root``, ``s0``,
        ``train_pipeline``, ``test_pipeline``, ``train_dataloader``,
        ``val_dataloader``, ``test_dataloader`` (the same dict as
        ``val_dataloader``), ``val_evaluator`` and ``test_evaluator`` (the
        same dict as ``val_evaluator``).

    Raises:
        KeyError: If a pipeline of ``base`` lacks one of the steps above.
    """
    train_pipeline = set_by_type(
        base['train_pipeline'], 'ISUSResize', short_side=s0,
        stuff_range=stuff_range)
    train_pipeline = set_by_type(
        train_pipeline, 'TruncationAwareRandomCrop', crop_size=crop_size)
    test_pipeline = set_by_type(
        base['test_pipeline'], 'Resize', scale=(s0 * 8, s0))
    train_dataloader = dict(batch_size=batch_size)
    if num_workers is not None:
        train_dataloader['num_workers'] = num_workers
    train_dataloader.update(
        sampler=dict(infinite=not epoch_based),
        dataset=dict(dataset=dict(
            type=dataset_type, data_root=data_root,
            pipeline=train_pipeline)))
    val_dataloader = dict(dataset=dict(
        type=dataset_type, data_root=data_root, pipeline=test_pipeline))
    val_evaluator = dict(
        ann_file=data_root + 'annotations/panoptic_val.json',
        seg_prefix=data_root + 'annotations/panoptic_val/')
    return dict(
        dataset_type=dataset_type, data_root=data_root, s0=s0,
        train_pipeline=train_pipeline, test_pipeline=test_pipeline,
        train_dataloader=train_dataloader, val_dataloader=val_dataloader,
        test_dataloader=val_dataloader, val_evaluator=val_evaluator,
        test_evaluator=val_evaluator)
