"""ABN / SyncABN: BatchNorm + activation in one norm layer, through mmcv."""
import socket

import pytest
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_norm_layer
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import DefaultScope

from mmpanoptic_cabb.models.layers import ABN, SyncABN


def _bn_like(abn: nn.BatchNorm2d) -> nn.BatchNorm2d:
    bn = nn.BatchNorm2d(abn.num_features, eps=abn.eps, momentum=abn.momentum)
    bn.load_state_dict(abn.state_dict())
    return bn


@pytest.mark.parametrize('abn_type', [ABN, SyncABN])
def test_forward_is_leaky_relu_of_batch_norm(abn_type):
    torch.manual_seed(0)
    abn = abn_type(6)
    nn.init.uniform_(abn.weight, 0.5, 2.0)
    nn.init.uniform_(abn.bias, -1.0, 1.0)
    bn = _bn_like(abn)
    x = torch.randn(4, 6, 5, 7)
    # training: batch statistics, running statistics updated the same way
    torch.testing.assert_close(abn(x), F.leaky_relu(bn(x), 0.01))
    torch.testing.assert_close(abn.running_mean, bn.running_mean)
    torch.testing.assert_close(abn.running_var, bn.running_var)
    assert int(abn.num_batches_tracked) == 1
    # eval: running statistics
    abn.eval()
    bn.eval()
    torch.testing.assert_close(abn(x), F.leaky_relu(bn(x), 0.01))


@pytest.mark.parametrize('activation, reference', [
    ('identity', lambda y: y),
    ('relu', F.relu),
    ('elu', lambda y: F.elu(y, 0.5)),
    ('leaky_relu', lambda y: F.leaky_relu(y, 0.5)),
])
def test_activations(activation, reference):
    abn = ABN(3, activation=activation, activation_param=0.5).eval()
    bn = _bn_like(abn).eval()
    x = torch.randn(2, 3, 4, 4)
    torch.testing.assert_close(abn(x), reference(bn(x)))


def test_unknown_activation_rejected():
    with pytest.raises(ValueError):
        ABN(3, activation='gelu')


def test_backward_matches_bn():
    torch.manual_seed(0)
    abn = ABN(4)
    bn = _bn_like(abn)
    x1 = torch.randn(3, 4, 6, 6, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    abn(x1).square().sum().backward()
    F.leaky_relu(bn(x2), 0.01).square().sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad)
    torch.testing.assert_close(abn.weight.grad, bn.weight.grad)


@pytest.mark.parametrize('abn_type', [ABN, SyncABN])
def test_state_dict_is_batch_norm_state_dict(abn_type):
    bn = nn.BatchNorm2d(8)
    bn.running_mean.uniform_()
    bn.weight.data.uniform_()
    abn = abn_type(8)
    assert list(abn.state_dict()) == list(bn.state_dict())
    abn.load_state_dict(bn.state_dict(), strict=True)
    torch.testing.assert_close(abn.running_mean, bn.running_mean)
    torch.testing.assert_close(abn.weight, bn.weight)


@pytest.mark.parametrize('scope', ['mmdet', 'mmseg'])
@pytest.mark.parametrize('type_name, cls', [('ABN', ABN),
                                            ('SyncABN', SyncABN)])
def test_build_norm_layer(scope, type_name, cls):
    """mmcv's builder finds the layer from mmdet's and mmseg's scopes and
    names it like a BatchNorm (bn1, ...), so checkpoints keep their keys."""
    import mmseg.registry  # noqa: F401  (creates the mmseg scope)
    with DefaultScope.overwrite_default_scope(scope):
        name, layer = build_norm_layer(
            dict(type=type_name, requires_grad=False, activation='identity'),
            16,
            postfix=1)
    assert name == 'bn1'
    assert type(layer) is cls
    assert layer.activation == 'identity'
    assert not any(p.requires_grad for p in layer.parameters())


def test_conv_module_with_abn_and_no_activation():
    conv = ConvModule(
        3, 8, 3, padding=1, norm_cfg=dict(type='ABN'), act_cfg=None)
    assert conv.conv.bias is None
    conv.eval()
    x = torch.randn(1, 3, 5, 5)
    bn = conv.bn
    expected = F.leaky_relu(
        F.batch_norm(
            conv.conv(x), bn.running_mean, bn.running_var, bn.weight, bn.bias,
            False, 0.0, bn.eps), 0.01)
    torch.testing.assert_close(conv(x), expected)
    assert (conv(x) < 0).any()  # leaky, not ReLU


def test_revert_sync_batchnorm_keeps_sync_abn():
    """The runner reverts SyncBatchNorm when not distributed; SyncABN must
    survive it (with its activation)."""
    model = nn.Sequential(nn.Conv2d(3, 4, 1), SyncABN(4))
    reverted = revert_sync_batchnorm(model)
    assert type(reverted[1]) is SyncABN


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _init_single_process_group(backend: str) -> None:
    dist.init_process_group(
        backend,
        init_method=f'tcp://127.0.0.1:{_free_port()}',
        rank=0,
        world_size=1)


@pytest.mark.skipif(dist.is_initialized(), reason='group already set up')
def test_sync_abn_on_cpu_process_group():
    """Under a gloo group on CPU, SyncABN normalizes locally instead of
    raising like nn.SyncBatchNorm."""
    _init_single_process_group('gloo')
    try:
        torch.manual_seed(0)
        abn = SyncABN(5)
        bn = _bn_like(abn)
        x = torch.randn(3, 5, 4, 4)
        assert not abn._use_sync(x)
        torch.testing.assert_close(abn(x), F.leaky_relu(bn(x), 0.01))
    finally:
        dist.destroy_process_group()


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
@pytest.mark.skipif(dist.is_initialized(), reason='group already set up')
def test_sync_path_matches_batch_norm_on_gpu():
    """The synchronized path (forced with one process) equals local BN."""
    _init_single_process_group('nccl')
    try:
        torch.manual_seed(0)
        synced = SyncABN(5).cuda()
        synced._use_sync = lambda _: True
        reference = _bn_like(synced).cuda()
        x = torch.randn(3, 5, 4, 4, device='cuda', requires_grad=True)
        y = synced(x)
        torch.testing.assert_close(y, F.leaky_relu(reference(x), 0.01))
        torch.testing.assert_close(synced.running_var, reference.running_var)
        y.sum().backward()
        assert x.grad is not None
    finally:
        dist.destroy_process_group()
