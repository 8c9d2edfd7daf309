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

    Because an id is a pure function of its position, a resumed training
    starts the sampler at the right id (:meth:`set_start_index`) instead of
    loading every batch already trained on; :meth:`state_dict` records the
    position.

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
        self.start_index = 0

    def __iter__(self) -> Iterator[int]:
        """Iterate the draw ids of this rank.

        The first iteration after :meth:`set_start_index` begins at that
        position; later ones (the next epochs) begin at 0 again.
        """
        start, self.start_index = self.start_index, 0
        if self.infinite:
            return itertools.count(start + self.rank, self.world_size)
        first = self.epoch * self.total_size + start + self.rank
        return iter(range(first, self.epoch * self.total_size +
                          self.total_size, self.world_size))

    def __len__(self) -> int:
        """Number of ids per epoch on this rank."""
        return self.num_samples

    def set_start_index(self, index: int) -> None:
        """Skip the first ``index`` draw ids (all ranks together).

        With ``infinite=True`` the ids ``0 .. index - 1`` are skipped; with
        ``infinite=False`` the first ``index`` ids of the current epoch. Use a
        multiple of the world size (the ids consumed by whole batches on
        every rank) so that each rank continues its own stream.

        Args:
            index (int): Number of ids already consumed, all ranks together.
        """
        if index < 0:
            raise ValueError(f'start index must be >= 0, got {index}')
        if not self.infinite and index > self.total_size:
            raise ValueError(f'start index {index} is beyond the '
                             f'{self.total_size} ids of an epoch')
        self.start_index = int(index)

    def state_dict(self) -> dict:
        """The position of the next iteration.

        Returns:
            dict: ``epoch``, ``start_index`` and ``world_size``.
        """
        return dict(epoch=self.epoch, start_index=self.start_index,
                    world_size=self.world_size)

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`.

        Args:
            state (dict): Output of :meth:`state_dict`.
        """
        self.epoch = int(state['epoch'])
        self.set_start_index(int(state['start_index']))

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch, which selects a fresh block of draw ids.

        Args:
            epoch (int): Epoch number.
        """
        self.epoch = epoch
