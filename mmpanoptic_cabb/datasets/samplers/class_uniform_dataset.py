"""Dataset wrapper implementing the draws of class-uniform sampling (CUS)."""
import copy
import os
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

import cv2
import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.dist import sync_random_seed
from mmengine.logging import print_log
from torch.utils.data import get_worker_info

from mmdet.registry import DATASETS
from mmpanoptic_cabb.structures.errors import (BadSampleError,
                                               PanopticFormatError)
from mmpanoptic_cabb.utils.rng_state import (capture_rng_state,
                                             restore_rng_state, seed_rng)
from .class_index import ClassIndex

#: Key of the :class:`LoaderReport` added to each sample when the training
#: loop asks for it (``report_to_loop``); the loop removes it from the batch.
REPORT_KEY = '_loader_report'

#: Errors of a sample's files (missing, undecodable, inconsistent), as the
#: loaders raise them: OSError (missing/unreadable file), ValueError (our
#: PanopticFormatError and inconsistent annotations), AssertionError (mmcv's
#: "failed to load image"), cv2.error. Other errors are bugs: they propagate.
SAMPLE_ERRORS = (OSError, ValueError, AssertionError, cv2.error)


class LoaderReport:
    """What a sample tells the training loop besides its data.

    Args:
        rng_state (dict, optional): The worker's generators after the sample
            (None in the main process).
        skipped (list[str]): Bad samples replaced by fresh draws on the way.
    """

    def __init__(self, rng_state: Optional[dict],
                 skipped: List[str]) -> None:
        self.rng_state = rng_state
        self.skipped = skipped


@DATASETS.register_module()
class ClassUniformDataset:
    """Class-uniform sampling (CUS, steps 1-2 of Sec. 2.1) as a wrapper.

    Index ``i`` of this dataset is a *draw id*, not an image: ``self[i]``
    seeds a generator with ``(seed, i)`` and draws

    1. a semantic class uniformly among the classes present in the wrapped
       training set,
    2. an image uniformly among those containing it,
    3. for a thing class, an instance of that class in the image uniformly
       (the instance ISUS rescales and the crop shows),

    then runs the wrapped dataset's pipeline on that image's data info with
    two extra keys:

    - ``sampled_class`` (int): the drawn class (contiguous label).
    - ``sampled_instance`` (int): row of the drawn instance in the instance
      arrays (``gt_bboxes``, ``gt_inst_map`` ids minus one), or -1 for a
      stuff class (or a thing class present only as crowd).

    The draws depend on ``(seed, i)`` only, so they are reproducible and do
    not depend on the number of workers. Any non-negative integer is a valid
    index: pair the wrapper with :class:`ClassUniformSampler`, which yields
    fresh draw ids every epoch (mmengine's ``DefaultSampler`` or
    ``InfiniteSampler`` would replay the same ``len(self)`` draws each
    epoch). The class -> image -> instance index is built once from the
    ``segments_info`` of the data list (no image is read).

    If the pipeline returns None for a draw, a new draw is made (up to
    ``max_refetch`` times), as mmengine's ``BaseDataset`` refetches.

    Bad samples: if the pipeline fails on a draw (a missing or undecodable
    image or PNG, a PNG whose ids disagree with its JSON), a
    :class:`~mmpanoptic_cabb.structures.errors.BadSampleError` names the
    draw id, the image id and the files. With ``skip_bad_samples=True`` the
    sample is logged instead and replaced by a fresh draw (the next redraw
    attempt of the same id, so the run stays reproducible); the training
    loop counts the replaced samples in its log.

    Args:
        dataset (BaseDataset | dict): The wrapped panoptic dataset (or its
            config). Its data infos need ``segments_info``.
        num_samples (int, optional): Draws per epoch, i.e. ``len(self)``.
            Defaults to the number of images of the wrapped dataset.
        seed (int, optional): Seed of the draws; identical on all ranks.
            Defaults to a seed synchronised across ranks.
        ignore_classes (Iterable[int]): Contiguous labels never drawn.
        max_refetch (int): Redraws allowed when the pipeline returns None
            (or fails, with ``skip_bad_samples``).
        lazy_init (bool): Build the index on first use. Defaults to False.
        skip_bad_samples (bool): Replace a sample whose loading fails by a
            fresh draw, logging it, instead of raising. Defaults to False.
    """

    def __init__(self,
                 dataset: Union[BaseDataset, dict],
                 num_samples: Optional[int] = None,
                 seed: Optional[int] = None,
                 ignore_classes: Iterable[int] = (),
                 max_refetch: int = 100,
                 lazy_init: bool = False,
                 skip_bad_samples: bool = False) -> None:
        if isinstance(dataset, dict):
            self.dataset = DATASETS.build(dataset)
        elif isinstance(dataset, BaseDataset):
            self.dataset = dataset
        else:
            raise TypeError('dataset must be a BaseDataset or its config, '
                            f'got {type(dataset)}')
        self._num_samples = num_samples
        self.seed = sync_random_seed() if seed is None else int(seed)
        self.ignore_classes = tuple(int(c) for c in ignore_classes)
        self.max_refetch = max_refetch
        self.skip_bad_samples = bool(skip_bad_samples)
        # Set by the training loop (ResumableIterBasedTrainLoop): attach a
        # LoaderReport to every sample; generator states for the workers of
        # a resumed run (worker id -> ('state', snapshot) | ('seed', seed)).
        self.report_to_loop = False
        self.worker_rng_resume: Optional[Dict[int, tuple]] = None
        self._rng_restored_in: Optional[int] = None
        self._metainfo = self.dataset.metainfo
        self.class_index: Optional[ClassIndex] = None
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        """Meta information of the wrapped dataset."""
        return copy.deepcopy(self._metainfo)

    @property
    def pipeline(self):
        """Pipeline of the wrapped dataset."""
        return self.dataset.pipeline

    def full_init(self) -> None:
        """Load the wrapped dataset and build the class index once."""
        if self._fully_initialized:
            return
        self.dataset.full_init()
        self.class_index = ClassIndex.from_segments(
            (self.dataset.get_data_info(i).get('segments_info', [])
             for i in range(len(self.dataset))),
            ignore_classes=self.ignore_classes)
        self._fully_initialized = True

    def draw(self, idx: int, attempt: int = 0) -> Tuple[int, int, int]:
        """The draw behind index ``idx``.

        Args:
            idx (int): Draw id (any non-negative integer).
            attempt (int): Redraw counter (0 for the first draw).

        Returns:
            tuple[int, int, int]: ``(img_idx, sampled_class,
            sampled_instance)``.
        """
        self.full_init()
        if idx < 0:
            raise IndexError(f'draw ids are non-negative, got {idx}')
        rng = np.random.default_rng((self.seed, int(idx), int(attempt)))
        return self.class_index.draw(rng)

    def get_data_info(self, idx: int, attempt: int = 0) -> dict:
        """Data info of the image drawn for ``idx``, with the draw keys."""
        img_idx, label, row = self.draw(idx, attempt)
        data_info = self.dataset.get_data_info(img_idx)
        data_info['sampled_class'] = label
        data_info['sampled_instance'] = row
        return data_info

    def __getitem__(self, idx: int) -> Any:
        self._restore_worker_rng()
        skipped: List[str] = []
        for attempt in range(self.max_refetch + 1):
            data_info = self.get_data_info(idx, attempt)
            try:
                data = self.dataset.pipeline(data_info)
            except SAMPLE_ERRORS as err:
                bad = self._bad_sample(idx, attempt, data_info, err)
                if not self.skip_bad_samples:
                    raise bad from err
                print_log(f'skipping bad sample ({bad}); drawing again',
                          logger='current', level=30)
                skipped.append(str(bad))
                continue
            if data is not None:
                return self._with_report(data, skipped)
        raise RuntimeError(f'no valid sample after {self.max_refetch} '
                           f'redraws of draw id {idx}' +
                           (f'; last error: {skipped[-1]}' if skipped
                            else ''))

    @staticmethod
    def _bad_sample(idx: int, attempt: int, data_info: dict,
                    err: Exception) -> BadSampleError:
        """The error naming the draw, the image and its files."""
        img_path = data_info.get('img_path')
        files = [f'image {img_path!r}']
        if data_info.get('seg_map_path') is not None:
            files.append(f'panoptic PNG {data_info["seg_map_path"]!r}')
        redraw = f' (redraw {attempt})' if attempt else ''
        message = (f'draw id {idx}{redraw}: image id '
                   f'{data_info.get("img_id")!r} ({", ".join(files)}): '
                   f'{type(err).__name__}: {err}')
        segment_id = err.segment_id if isinstance(
            err, PanopticFormatError) else None
        return BadSampleError(message, image=img_path, segment_id=segment_id)

    def _restore_worker_rng(self) -> None:
        """In a worker of a resumed run, put back its generators once."""
        if self.worker_rng_resume is None or \
                self._rng_restored_in == os.getpid():
            return
        self._rng_restored_in = os.getpid()
        info = get_worker_info()
        spec = self.worker_rng_resume.get(info.id if info else -1)
        if spec is None:
            return
        kind, value = spec
        if kind == 'seed':
            seed_rng(int(value))
        else:
            restore_rng_state(value)

    def _with_report(self, data: Any, skipped: List[str]) -> Any:
        """Attach the :class:`LoaderReport` the training loop asked for."""
        if not self.report_to_loop or not isinstance(data, dict):
            return data
        rng = capture_rng_state(with_cuda=False) \
            if get_worker_info() is not None else None
        data[REPORT_KEY] = LoaderReport(rng, skipped)
        return data

    def __len__(self) -> int:
        if self._num_samples is not None:
            return int(self._num_samples)
        self.full_init()
        return len(self.dataset)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(dataset='
                f'{self.dataset.__class__.__name__}, '
                f'num_samples={self._num_samples}, seed={self.seed}, '
                f'ignore_classes={self.ignore_classes}, '
                f'skip_bad_samples={self.skip_bad_samples})')
