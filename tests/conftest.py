"""Shared fixtures: a tiny synthetic panoptic dataset generated once per test session."""
import pytest

from mmpanoptic_cabb.data_preparation.synthetic import \
    write_synthetic_dataset

TINY_SIZE = dict(height=256, width=512)


@pytest.fixture(scope='session')
def tiny_synthetic_root(tmp_path_factory) -> str:
    """A 6-train / 3-val image synthetic dataset at 256x512, seed 0."""
    root = str(tmp_path_factory.mktemp('synthetic'))
    write_synthetic_dataset(root, seed=0, splits=(('train', 6), ('val', 3)),
                            nproc=1, **TINY_SIZE)
    return root
