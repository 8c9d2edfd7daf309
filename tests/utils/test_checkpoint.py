"""The weights-only checkpoint loader of ``mmpanoptic_cabb.utils``."""
import pickle
import re

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner.checkpoint import CheckpointLoader

import mmpanoptic_cabb  # noqa: F401  (registers the loader)
from mmpanoptic_cabb.utils.checkpoint import UNSAFE_ENV, load_checkpoint_file


class Payload:
    """An arbitrary class a checkpoint must not unpickle by default.

    ``restored`` counts the instances rebuilt by unpickling, so a test sees
    whether a refused file ran any of its code.
    """

    restored = 0

    def __init__(self, value: int) -> None:
        self.value = value

    def __setstate__(self, state: dict) -> None:
        type(self).restored += 1
        self.__dict__.update(state)


def _state_dict():
    torch.manual_seed(0)
    return {
        'backbone.conv.weight': torch.randn(4, 3, 3, 3),
        'backbone.bn.num_batches_tracked': torch.tensor(7),
    }


@pytest.fixture
def mmengine_checkpoint(tmp_path):
    """A checkpoint laid out as mmengine's Runner saves one."""
    hub = MessageHub.get_instance('test_checkpoint_hub')
    hub.update_scalar('train/loss', np.float64(0.5))
    hub.update_scalar('train/loss', 0.25)
    hub.update_scalar('train/lr', np.float32(0.01))
    hub.update_info('iter', 3)
    checkpoint = dict(
        meta=dict(
            epoch=0,
            iter=np.int64(3),
            seed=np.int64(42),
            dataset_meta=dict(classes=('car', 'sky')),
            mmengine_version='0.10.7'),
        state_dict=_state_dict(),
        message_hub=hub.state_dict(),
        optimizer=dict(state={}, param_groups=[dict(lr=0.01, params=[0, 1])]))
    path = str(tmp_path / 'iter_3.pth')
    torch.save(checkpoint, path)
    return path


@pytest.fixture
def payload_checkpoint(tmp_path):
    path = str(tmp_path / 'untrusted.pth')
    torch.save(
        dict(state_dict=_state_dict(), meta=dict(extra=Payload(3))), path)
    return path


def test_mmengine_checkpoint_loads(mmengine_checkpoint, monkeypatch):
    monkeypatch.delenv(UNSAFE_ENV, raising=False)
    # plain weights-only loading cannot read what mmengine writes ...
    with pytest.raises(pickle.UnpicklingError):
        torch.load(mmengine_checkpoint, weights_only=True)
    # ... the allow-listed loader can, and mmengine routes local paths to it
    assert CheckpointLoader._get_checkpoint_loader(
        mmengine_checkpoint) is load_checkpoint_file
    loaded = CheckpointLoader.load_checkpoint(
        mmengine_checkpoint, map_location='cpu')

    expected = _state_dict()
    assert loaded['state_dict'].keys() == expected.keys()
    for key, value in expected.items():
        assert torch.equal(loaded['state_dict'][key], value), key
    meta = loaded['meta']
    assert type(meta['iter']) is np.int64 and meta['iter'] == 3
    assert type(meta['seed']) is np.int64 and meta['seed'] == 42
    assert meta['dataset_meta'] == dict(classes=('car', 'sky'))
    scalars = loaded['message_hub']['log_scalars']
    assert isinstance(scalars['train/loss'], HistoryBuffer)
    np.testing.assert_allclose(scalars['train/loss'].data[0], [0.5, 0.25])
    assert scalars['train/loss'].mean() == pytest.approx(0.375)
    assert scalars['train/lr'].current() == pytest.approx(0.01)
    assert loaded['message_hub']['runtime_info']['iter'] == 3
    assert loaded['optimizer']['param_groups'][0]['lr'] == 0.01
    # the restored state feeds a message hub again
    hub = MessageHub.get_instance('test_checkpoint_resumed')
    hub.load_state_dict(loaded['message_hub'])
    assert hub.get_scalar('train/loss').current() == pytest.approx(0.25)


def test_custom_class_is_refused_with_the_file_name(payload_checkpoint,
                                                    monkeypatch):
    monkeypatch.delenv(UNSAFE_ENV, raising=False)
    restored = Payload.restored
    with pytest.raises(pickle.UnpicklingError) as err:
        load_checkpoint_file(payload_checkpoint)
    message = str(err.value)
    assert re.search(re.escape(payload_checkpoint), message), message
    assert UNSAFE_ENV in message and 'Payload' in message
    assert Payload.restored == restored  # no object was rebuilt


def test_custom_class_loads_with_the_opt_in(payload_checkpoint, monkeypatch):
    monkeypatch.setenv(UNSAFE_ENV, '1')
    restored = Payload.restored
    loaded = load_checkpoint_file(payload_checkpoint, map_location='cpu')
    extra = loaded['meta']['extra']
    assert type(extra) is Payload and extra.value == 3
    assert Payload.restored == restored + 1
    assert torch.equal(loaded['state_dict']['backbone.conv.weight'],
                       _state_dict()['backbone.conv.weight'])


@pytest.mark.parametrize('value', ['0', 'yes', ''])
def test_only_the_value_1_opts_in(payload_checkpoint, monkeypatch, value):
    monkeypatch.setenv(UNSAFE_ENV, value)
    with pytest.raises(pickle.UnpicklingError, match='untrusted.pth'):
        load_checkpoint_file(payload_checkpoint)


def test_missing_file(tmp_path):
    missing = str(tmp_path / 'missing.pth')
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        load_checkpoint_file(missing)
