"""ClassUniformSampler starts at any draw index: the ids after ``set_start_index(n)`` are
those an uninterrupted sampler yields after its first ``n``; from 0 it yields exactly the ids
of the original logic (pinned below), so uninterrupted runs keep their draws."""
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmpanoptic_cabb.datasets.samplers import ClassUniformSampler
from mmpanoptic_cabb.datasets.samplers import class_uniform_sampler


def _sampler(monkeypatch, rank, world_size, length=10, infinite=True):
    monkeypatch.setattr(class_uniform_sampler, 'get_dist_info',
                        lambda: (rank, world_size))
    return ClassUniformSampler(list(range(length)), infinite=infinite)


def _original_ids(rank, world_size, length, infinite, epoch, count):
    """The ids of the sampler before it could start at an index."""
    if infinite:
        return list(itertools.islice(itertools.count(rank, world_size),
                                     count))
    per_rank = -(-length // world_size)
    total = per_rank * world_size
    start = epoch * total + rank
    return list(range(start, start + total, world_size))[:count]


@pytest.mark.parametrize('world_size', [1, 2, 3])
@pytest.mark.parametrize('infinite', [True, False])
def test_fresh_sampler_yields_the_original_ids(monkeypatch, world_size,
                                               infinite):
    for rank in range(world_size):
        sampler = _sampler(monkeypatch, rank, world_size, infinite=infinite)
        for epoch in range(3):
            sampler.set_epoch(epoch)
            ids = list(itertools.islice(iter(sampler), 12))
            assert ids == _original_ids(rank, world_size, 10, infinite,
                                        epoch, 12)


def test_pinned_first_ids(monkeypatch):
    assert list(itertools.islice(iter(_sampler(monkeypatch, 1, 2)), 5)) == \
        [1, 3, 5, 7, 9]
    finite = _sampler(monkeypatch, 0, 2, length=5, infinite=False)
    finite.set_epoch(2)
    assert list(finite) == [12, 14, 16]


@settings(max_examples=60, deadline=None)
@given(world_size=st.integers(1, 4), batches=st.integers(0, 50),
       batch_size=st.integers(1, 4), infinite=st.booleans(),
       epoch=st.integers(0, 3))
def test_start_index_skips_exactly_the_consumed_ids(world_size, batches,
                                                    batch_size, infinite,
                                                    epoch):
    length = 64
    consumed = batches * batch_size  # per rank
    if not infinite:
        consumed = min(consumed, -(-length // world_size))
    with pytest.MonkeyPatch.context() as mp:
        for rank in range(world_size):
            full = _sampler(mp, rank, world_size, length, infinite)
            full.set_epoch(epoch)
            expected = list(itertools.islice(iter(full), consumed + 20))
            resumed = _sampler(mp, rank, world_size, length, infinite)
            resumed.set_epoch(epoch)
            resumed.set_start_index(consumed * world_size)
            assert resumed.state_dict()['start_index'] == \
                consumed * world_size
            got = list(itertools.islice(iter(resumed), 20))
            assert got == expected[consumed:consumed + 20]
            # the next epoch starts from its first id again
            resumed.set_epoch(epoch + 1)
            full.set_epoch(epoch + 1)
            assert list(itertools.islice(iter(resumed), 3)) == \
                list(itertools.islice(iter(full), 3))


def test_start_index_is_checked(monkeypatch):
    sampler = _sampler(monkeypatch, 0, 1, length=4, infinite=False)
    with pytest.raises(ValueError, match='beyond'):
        sampler.set_start_index(5)
    with pytest.raises(ValueError, match='>= 0'):
        sampler.set_start_index(-1)
    sampler.load_state_dict(dict(epoch=1, start_index=2, world_size=1))
    assert list(sampler) == [6, 7]
