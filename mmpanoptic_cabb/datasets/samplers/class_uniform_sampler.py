"""Sampler yielding fresh draw ids for :class:`ClassUniformDataset`."""
import itertools
import math
from typing import Iterator, Optional, Sized

from mmengine.dist import get_dist_info
from torch.utils.data import Sampler

from mmdet.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class ClassUniformSampler(Sampler):
    """Distributed-aware sampler of draw ids for class-uniform sampling.

    :class:`ClassUniformDataset` turns an index into a seeded draw, so the
    indices must never repeat for the draws to be fresh. This sampler yields
    the integers ``0, 1, 2, ...`` split across ranks like mmengine's
    samplers (rank ``r`` of ``W`` takes ``r, r + W, r + 2W, ...``):

    - ``infinite=False`` (epoch-based loops, like ``DefaultSampler``):
      epoch ``e`` yields the ids ``e * T + r + k * W`` for
      ``k < ceil(len(dataset) / W)``, with ``T = W * ceil(len(dataset) / W)``
      (``set_epoch`` is called by the loop).
    - ``infinite=True`` (iteration-based loops, like ``InfiniteSampler``):
      the ids never end.

    Shuffling is pointless (each id is an independent draw), so there is no
    ``shuffle`` option; the draws' seed lives in the dataset wrapper.

    Args:
        dataset (Sized): The :class:`ClassUniformDataset`; its length is the
            number of draws per epoch.
        infinite (bool): Yield ids forever. Defaults to False.
        seed (int, optional): Accepted because mmengine's runner passes its
            sampler seed; unused (the draws are seeded by the wrapper).
    """

    def __init__(self,
                 dataset: Sized,
                 infinite: bool = False,
                 seed: Optional[int] = None) -> None:
        self.rank, self.world_size = get_dist_info()
        self.dataset = dataset
        self.infinite = infinite
        self.epoch = 0
        self.num_samples = math.ceil(len(dataset) / self.world_size)
        self.total_size = self.num_samples * self.world_size

    def __iter__(self) -> Iterator[int]:
        """Iterate the draw ids of this rank."""
        if self.infinite:
            return itertools.count(self.rank, self.world_size)
        start = self.epoch * self.total_size + self.rank
        return iter(range(start, start + self.total_size, self.world_size))

    def __len__(self) -> int:
        """Number of ids per epoch on this rank."""
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch, which selects a fresh block of draw ids.

        Args:
            epoch (int): Epoch number.
        """
        self.epoch = epoch
