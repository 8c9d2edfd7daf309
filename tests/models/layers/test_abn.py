"""ABN / SyncABN: BatchNorm + activation in one norm layer, through mmcv.

(N, C, H, W) inputs are normalized like ``nn.BatchNorm2d``, (N, C) and
(N, C, L) inputs like ``nn.BatchNorm1d``: fully connected layers (the RoI box
head's FCs) are followed by an ABN over the RoI batch, whose statistics are
then taken over the batch dimension.
"""
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
from mmpanoptic_cabb.models.layers import abn as abn_module

#: Input shapes of the BatchNorm1d (NC, NCL) and BatchNorm2d (NCHW) cases.
SHAPES = dict(NC=(16, 6), NCL=(4, 6, 5), NCHW=(4, 6, 5, 7))


def _bn_type(dims: int) -> type:
    """The plain BatchNorm of ``dims``-dimensional inputs."""
    return nn.BatchNorm2d if dims == 4 else nn.BatchNorm1d


def _bn_like(abn: nn.BatchNorm2d, dims: int = 4) -> nn.BatchNorm2d:
    """A plain BatchNorm for ``dims``-dimensional inputs with the state of
    ``abn``."""
    bn = _bn_type(dims)(abn.num_features, eps=abn.eps, momentum=abn.momentum)
    bn.load_state_dict(abn.state_dict())
    return bn


def _randomize_affine(abn: nn.BatchNorm2d) -> None:
    nn.init.uniform_(abn.weight, 0.5, 2.0)
    nn.init.uniform_(abn.bias, -1.0, 1.0)


@pytest.mark.parametrize('shape', list(SHAPES.values()), ids=list(SHAPES))
@pytest.mark.parametrize('abn_type', [ABN, SyncABN])
def test_forward_is_leaky_relu_of_batch_norm(abn_type, shape):
    torch.manual_seed(0)
    abn = abn_type(6)
    _randomize_affine(abn)
    bn = _bn_like(abn, len(shape))
    x = torch.randn(*shape) * 3 + 1
    out = abn(x)
    assert out.shape == x.shape
    # training: batch statistics, running statistics updated the same way
    torch.testing.assert_close(out, F.leaky_relu(bn(x), 0.01))
    assert (out < 0).any()  # leaky, not ReLU
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


def test_statistics_are_over_the_batch_dimension():
    """Training output of each channel has zero mean and unit (biased)
    variance over the batch before the activation."""
    torch.manual_seed(0)
    abn = ABN(5, activation='identity')
    x = torch.randn(32, 5) * torch.arange(1., 6.) + torch.arange(5.)
    y = abn(x)
    torch.testing.assert_close(y.mean(0), torch.zeros(5), atol=1e-5, rtol=0)
    torch.testing.assert_close(
        y.var(0, unbiased=False), torch.ones(5), atol=1e-3, rtol=0)
    # running statistics: momentum 0.1 towards the batch mean / unbiased var
    torch.testing.assert_close(abn.running_mean, 0.1 * x.mean(0))
    torch.testing.assert_close(abn.running_var, 0.9 + 0.1 * x.var(0))


@pytest.mark.parametrize('shape', [(10, 4), (3, 4, 6, 6)], ids=['NC', 'NCHW'])
def test_backward_matches_batch_norm(shape):
    torch.manual_seed(0)
    abn = ABN(4)
    _randomize_affine(abn)
    bn = _bn_like(abn, len(shape))
    x1 = torch.randn(*shape, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    abn(x1).square().sum().backward()
    F.leaky_relu(bn(x2), 0.01).square().sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad)
    torch.testing.assert_close(abn.weight.grad, bn.weight.grad)
    torch.testing.assert_close(abn.bias.grad, bn.bias.grad)


@pytest.mark.parametrize('activation, param, reference', [
    ('leaky_relu', 0.01, lambda y: F.leaky_relu(y, 0.01)),
    ('leaky_relu', -0.2, lambda y: F.leaky_relu(y, -0.2)),
    ('elu', 0.5, lambda y: F.elu(y, 0.5)),
    ('relu', 0.0, F.relu),
])
def test_in_place_activation_is_bitwise_the_out_of_place_one(
        activation, param, reference):
    """The activation runs in place on the norm's output (no extra
    buffer); values and gradients equal the out-of-place composition to
    the bit, and a negative slope (not invertible in place) still works."""
    torch.manual_seed(0)
    abn = ABN(4, activation=activation, activation_param=param)
    _randomize_affine(abn)
    bn = _bn_like(abn)
    x1 = torch.randn(3, 4, 6, 6, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    out1, out2 = abn(x1), reference(bn(x2))
    assert torch.equal(out1, out2)
    weights = torch.randn_like(out1)
    (out1 * weights).sum().backward()
    (out2 * weights).sum().backward()
    assert torch.equal(x1.grad, x2.grad)
    assert torch.equal(abn.weight.grad, bn.weight.grad)
    assert torch.equal(abn.bias.grad, bn.bias.grad)
    assert torch.equal(x1.detach(), x2.detach())  # the input is untouched


@pytest.mark.parametrize('shape', [(3, 8), (3, 8, 2, 2)], ids=['NC', 'NCHW'])
@pytest.mark.parametrize('abn_type', [ABN, SyncABN])
def test_state_dict_is_batch_norm_state_dict(abn_type, shape):
    bn = _bn_type(len(shape))(8)
    bn.running_mean.uniform_()
    bn.running_var.uniform_(0.5, 2.0)
    bn.weight.data.uniform_()
    abn = abn_type(8)
    assert list(abn.state_dict()) == list(bn.state_dict())
    abn.load_state_dict(bn.state_dict(), strict=True)
    torch.testing.assert_close(abn.running_mean, bn.running_mean)
    torch.testing.assert_close(abn.weight, bn.weight)
    abn.eval()
    bn.eval()
    x = torch.randn(*shape)
    torch.testing.assert_close(abn(x), F.leaky_relu(bn(x), 0.01))


@pytest.mark.parametrize('dims', [1, 5])
def test_other_input_ranks_rejected(dims):
    with pytest.raises(ValueError, match='2D, 3D or 4D'):
        ABN(3)(torch.randn(*([3] + [2] * (dims - 1))))


def test_single_sample_rejected_in_training():
    """Like BatchNorm1d: one value per channel has no batch statistics."""
    with pytest.raises(ValueError):
        ABN(3)(torch.randn(1, 3))
    assert ABN(3).eval()(torch.randn(1, 3)).shape == (1, 3)


def test_empty_batch_keeps_running_statistics():
    abn = ABN(4)
    abn.running_mean.fill_(2.)
    abn.running_var.fill_(3.)
    out = abn(torch.zeros(0, 4))
    assert out.shape == (0, 4)
    assert torch.equal(abn.running_mean, torch.full((4, ), 2.))
    assert torch.equal(abn.running_var, torch.full((4, ), 3.))


def test_built_by_mmcv_for_fc_features():
    _, layer = build_norm_layer(dict(type='SyncABN'), 12)
    assert type(layer) is SyncABN and layer.activation_param == 0.01
    assert layer(torch.randn(7, 12)).shape == (7, 12)


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


class _LocalSyncFn:
    """Stands in for the synchronized autograd function (accelerator only):
    records its arguments and normalizes with the local statistics, which
    is what the synchronized function computes for one process."""

    def __init__(self):
        self.calls = []

    def apply(self, x, weight, bias, running_mean, running_var, eps, momentum,
              group, world_size):
        self.calls.append(
            dict(shape=tuple(x.shape), group=group, world_size=world_size))
        return F.batch_norm(x, running_mean, running_var, weight, bias, True,
                            momentum, eps)


@pytest.mark.skipif(dist.is_initialized(), reason='group already set up')
@pytest.mark.parametrize('momentum', [0.1, None], ids=['ema', 'cumulative'])
def test_sync_abn_routes_fc_features_through_the_sync_path(
        monkeypatch, momentum):
    """(N, C) inputs take the same synchronized path as (N, C, H, W) ones,
    with the running-statistics update of nn.SyncBatchNorm."""
    stub = _LocalSyncFn()
    monkeypatch.setattr(abn_module, '_SyncBatchNormFn', stub)
    _init_single_process_group('gloo')
    try:
        torch.manual_seed(0)
        synced = SyncABN(6, momentum=momentum)
        synced._use_sync = lambda _: True
        _randomize_affine(synced)
        reference = _bn_like(synced, 2)
        for _ in range(2):
            x = torch.randn(9, 6)
            torch.testing.assert_close(
                synced(x), F.leaky_relu(reference(x), 0.01))
        torch.testing.assert_close(synced.running_mean, reference.running_mean)
        torch.testing.assert_close(synced.running_var, reference.running_var)
        assert int(synced.num_batches_tracked) == 2
        assert [c['shape'] for c in stub.calls] == [(9, 6)] * 2
        assert all(c['group'] is dist.group.WORLD and c['world_size'] == 1
                   for c in stub.calls)
    finally:
        dist.destroy_process_group()


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
@pytest.mark.skipif(dist.is_initialized(), reason='group already set up')
@pytest.mark.parametrize('shape', [(3, 5, 4, 4), (12, 5)], ids=['NCHW', 'NC'])
def test_sync_path_matches_batch_norm_on_gpu(shape):
    """The real synchronized path (forced with one process) equals local
    BN."""
    _init_single_process_group('nccl')
    try:
        torch.manual_seed(0)
        synced = SyncABN(5).cuda()
        synced._use_sync = lambda _: True
        reference = _bn_like(synced, len(shape)).cuda()
        x = torch.randn(*shape, device='cuda', requires_grad=True)
        y = synced(x)
        torch.testing.assert_close(y, F.leaky_relu(reference(x), 0.01))
        torch.testing.assert_close(synced.running_var, reference.running_var)
        y.sum().backward()
        assert x.grad is not None and torch.isfinite(x.grad).all()
    finally:
        dist.destroy_process_group()
