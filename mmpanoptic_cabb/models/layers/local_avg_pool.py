"""Average pooling over a training-sized window, for crop-trained context branches."""
from typing import Sequence, Tuple, Union

import torch.nn.functional as F
from torch import Tensor, nn


def local_average_pool(x: Tensor, pooling_size: Tuple[int, int]) -> Tensor:
    """Stride-1 average pooling over a large window, output of the input size.

    The window is clipped to the feature map, so on small inputs (or at test
    time on maps no larger than the window) it becomes global average
    pooling; the border is filled by replicating the valid outputs.

    Args:
        x (Tensor): Features of shape (N, C, H, W).
        pooling_size (tuple[int, int]): Window (height, width).

    Returns:
        Tensor: Pooled features of shape (N, C, H, W).
    """
    height, width = x.shape[-2:]
    kernel_h = min(pooling_size[0], height)
    kernel_w = min(pooling_size[1], width)
    pooled = F.avg_pool2d(x, (kernel_h, kernel_w), stride=1)
    pad_top, pad_left = (kernel_h - 1) // 2, (kernel_w - 1) // 2
    pad = (pad_left, kernel_w - 1 - pad_left, pad_top, kernel_h - 1 - pad_top)
    if any(pad):
        pooled = F.pad(pooled, pad, mode='replicate')
    return pooled


class LocalAvgPool2d(nn.Module):
    """:func:`local_average_pool` as a module.

    Replaces the global image pooling of an ASPP head so that a model trained
    on crops sees, at full-image inference, context pooled over a window of
    the training crop's size (as Panoptic-DeepLab does) instead of a global
    average of a much larger image.

    Args:
        pooling_size (int or Sequence[int]): Window (height, width) in
            feature-map cells, e.g. crop size / output stride.
    """

    def __init__(self, pooling_size: Union[int, Sequence[int]]) -> None:
        super().__init__()
        if isinstance(pooling_size, int):
            pooling_size = (pooling_size, pooling_size)
        self.pooling_size = tuple(int(s) for s in pooling_size)

    def forward(self, x: Tensor) -> Tensor:
        """Pool ``x`` (N, C, H, W); the output has the same shape."""
        return local_average_pool(x, self.pooling_size)

    def extra_repr(self) -> str:
        return f'pooling_size={self.pooling_size}'
