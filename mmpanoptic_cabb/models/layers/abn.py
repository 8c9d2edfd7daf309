"""Activated Batch Normalization (ABN): batch norm + activation, one layer.

The paper applies synchronized InPlace-ABN throughout the network: every
normalization layer is a BatchNorm followed by a LeakyReLU of slope 0.01, and
the pair is one module. This file provides that layer for mmcv's
``build_norm_layer``. InPlace-ABN's full trick (recovering the norm's input
from its output in the backward pass) is not reproduced, but the activation
runs in place on the norm's output (one full-size buffer fewer per layer,
bitwise the same values and gradients: the backward of an in-place
LeakyReLU with a non-negative slope reads its output's sign, and the norm's
backward reads its input, not its output; the ELU stays out of place, as
its in-place backward rounds differently). The maths is the same:

- ``type='ABN'``: BatchNorm + activation, statistics of the local batch.
- ``type='SyncABN'``: the same, with batch statistics synchronized across
  processes when training distributed on accelerators (CUDA, ...).

Both take (N, C, H, W) inputs (``nn.BatchNorm2d`` semantics, after convs) and
(N, C) / (N, C, L) inputs (``nn.BatchNorm1d`` semantics: statistics over the
batch, e.g. over the RoIs after a fully connected layer); ``SyncABN``
synchronizes both through the same path as ``nn.SyncBatchNorm``.  In
training a channel needs more than one value per process, as for BatchNorm
(a (1, C) input raises); an empty batch (e.g. no RoIs) passes through and,
normalized locally, leaves the running statistics unchanged.

Usage rules
-----------
- A conv followed by an ABN must not add its own activation: set
  ``act_cfg=None`` on ``ConvModule`` (and on mmdet/mmseg modules that expose
  ``act_cfg``), otherwise the activation is applied twice.
- Modules that hard-code their own activations around their norms (mmdet's
  ``ResNet`` and ``HRNet`` apply ``nn.ReLU`` after norms and after residual
  sums) take ``activation='identity'``: the layer is then a (synchronized)
  BatchNorm and the module's own ReLUs act, which keeps ImageNet weights
  trained with BN + ReLU meaningful.
- Both classes subclass ``_BatchNorm`` and keep BatchNorm's parameter and
  buffer names (``weight``, ``bias``, ``running_mean``, ``running_var``,
  ``num_batches_tracked``) and mmcv's ``bn`` abbreviation, so ImageNet BN
  checkpoints load unchanged and ``norm_eval`` / ``is_norm`` checks see them.

Switching between ABN and SyncABN
---------------------------------
``SyncABN`` is safe in every setting: it synchronizes only when a process
group with more than one process is initialized, the layer is training and the
input lives on an accelerator; otherwise (single process, CPU, gloo on CPU,
eval) it normalizes with local statistics exactly like ``ABN``. GPU configs
therefore use ``norm_type = 'SyncABN'`` and CPU configs may use ``'ABN'``
(or ``'SyncABN'``, same result on CPU).

Do not set the runner's ``sync_bn`` option with these layers: mmengine's
``convert_sync_batchnorm`` turns every ``_BatchNorm`` into a plain
``nn.SyncBatchNorm`` and would drop the activation. ``SyncABN`` is not an
``nn.SyncBatchNorm``, so mmengine's ``revert_sync_batchnorm`` (applied by the
runner and inferencers when not distributed) leaves it untouched.
"""
from typing import Optional

import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import MODELS as MMENGINE_MODELS
from torch import Tensor
# The autograd function behind nn.SyncBatchNorm (forward: all-gather of the
# per-process statistics; backward: all-reduce of the gradient sums).
from torch.nn.modules._functions import SyncBatchNorm as _SyncBatchNormFn

from mmdet.registry import MODELS

_ACTIVATIONS = ('leaky_relu', 'elu', 'relu', 'identity')


@MODELS.register_module()
class ABN(nn.BatchNorm2d):
    """BatchNorm followed by an activation, as a single norm layer.

    Accepts (N, C, H, W) inputs like ``nn.BatchNorm2d`` and (N, C) /
    (N, C, L) inputs like ``nn.BatchNorm1d``.

    ``forward(x) = act(batch_norm(x))`` with ``act`` a LeakyReLU of slope
    ``activation_param`` (default 0.01) unless ``activation`` says otherwise.

    Args:
        num_features (int): Number of channels.
        eps (float): Added to the variance for numerical stability.
            Defaults to 1e-5.
        momentum (float, optional): Running statistics momentum (None for a
            cumulative average). Defaults to 0.1.
        affine (bool): Learn a per-channel scale and shift. Defaults to True.
        track_running_stats (bool): Keep running statistics. Defaults to True.
        activation (str): One of ``'leaky_relu'``, ``'elu'``, ``'relu'``,
            ``'identity'``. Defaults to ``'leaky_relu'``.
        activation_param (float): Negative slope of the LeakyReLU or alpha of
            the ELU. Defaults to 0.01.
    """

    _abbr_ = 'bn'

    def __init__(self,
                 num_features: int,
                 eps: float = 1e-5,
                 momentum: Optional[float] = 0.1,
                 affine: bool = True,
                 track_running_stats: bool = True,
                 activation: str = 'leaky_relu',
                 activation_param: float = 0.01) -> None:
        super().__init__(
            num_features,
            eps=eps,
            momentum=momentum,
            affine=affine,
            track_running_stats=track_running_stats)
        if activation not in _ACTIVATIONS:
            raise ValueError(f'activation must be one of {_ACTIVATIONS}, '
                             f'got {activation!r}')
        self.activation = activation
        self.activation_param = activation_param

    def _check_input_dim(self, input: Tensor) -> None:
        """Accept (N, C), (N, C, L) and (N, C, H, W) inputs.

        Statistics are taken per channel over every dimension but the
        channel one, i.e. ``nn.BatchNorm1d`` semantics for (N, C) / (N, C, L)
        inputs (e.g. after a fully connected layer) and ``nn.BatchNorm2d``
        semantics for (N, C, H, W).

        Raises:
            ValueError: If ``input`` has another number of dimensions.
        """
        if input.dim() not in (2, 3, 4):
            raise ValueError('expected a 2D, 3D or 4D input '
                             f'(got {input.dim()}D input)')

    def _normalize(self, x: Tensor) -> Tensor:
        """Batch normalization of ``x`` (local statistics)."""
        return super().forward(x)

    def _activate(self, x: Tensor) -> Tensor:
        """Apply the configured activation; the LeakyReLU (non-negative
        slope: autograd cannot invert a negative one in place) and the ReLU
        run in place on ``x``, the norm's fresh output."""
        if self.activation == 'leaky_relu':
            return F.leaky_relu(
                x,
                negative_slope=self.activation_param,
                inplace=self.activation_param >= 0)
        if self.activation == 'elu':
            return F.elu(x, alpha=self.activation_param)
        if self.activation == 'relu':
            return F.relu(x, inplace=True)
        return x

    def forward(self, x: Tensor) -> Tensor:
        """Normalize, then activate.

        Args:
            x (Tensor): Input of shape (N, C, H, W), (N, C, L) or (N, C).

        Returns:
            Tensor: ``act(batch_norm(x))``, same shape as ``x``.
        """
        return self._activate(self._normalize(x))

    def extra_repr(self) -> str:
        """Module summary with the activation."""
        return (f'{super().extra_repr()}, activation={self.activation}, '
                f'activation_param={self.activation_param}')


@MODELS.register_module()
class SyncABN(ABN):
    """ABN whose batch statistics are synchronized across processes.

    Synchronizes when training with an initialized process group of more
    than one process and the input on an accelerator; in every other case
    (including CPU tensors under a gloo group, which ``nn.SyncBatchNorm``
    rejects) it uses the local batch statistics, like :class:`ABN`.

    Args:
        num_features (int): Number of channels.
        process_group (optional): Group to synchronize over. Defaults to the
            whole world.
        **kwargs: The other arguments of :class:`ABN`.
    """

    def __init__(self,
                 num_features: int,
                 process_group: Optional[object] = None,
                 **kwargs) -> None:
        super().__init__(num_features, **kwargs)
        self.process_group = process_group

    def _use_sync(self, x: Tensor) -> bool:
        """Whether this forward synchronizes the batch statistics."""
        if not (self.training and dist.is_available()
                and dist.is_initialized()):
            return False
        if x.device.type == 'cpu':
            return False
        return dist.get_world_size(self._group()) > 1

    def _group(self):
        """The process group to synchronize over."""
        return self.process_group or dist.group.WORLD

    def _normalize(self, x: Tensor) -> Tensor:
        """Batch normalization with cross-process statistics when training
        distributed on an accelerator, local statistics otherwise."""
        if not self._use_sync(x):
            return super()._normalize(x)
        self._check_input_dim(x)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                momentum = 1.0 / float(self.num_batches_tracked)
        return _SyncBatchNormFn.apply(x, self.weight, self.bias,
                                      self.running_mean, self.running_var,
                                      self.eps, momentum, self._group(),
                                      dist.get_world_size(self._group()))


# Also visible from the root registry, so that modules built in other scopes
# (e.g. ``mmseg.*`` heads, whose ``build_norm_layer`` looks up the mmseg
# registry and its parents) accept ``norm_cfg=dict(type='ABN')`` too, like
# mmcv's own ``BN`` / ``SyncBN``.
for _cls in (ABN, SyncABN):
    if _cls.__name__ not in MMENGINE_MODELS.module_dict:
        MMENGINE_MODELS.register_module(module=_cls)

__all__ = ['ABN', 'SyncABN']
