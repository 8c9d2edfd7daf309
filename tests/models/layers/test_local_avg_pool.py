"""Stride-1 local average pooling with the window clipped to the map."""
import torch

from mmpanoptic_cabb.models.layers import local_average_pool


def test_local_average_pool():
    x = torch.randn(1, 2, 5, 7)
    pooled = local_average_pool(x, (64, 64))  # window clipped: global mean
    torch.testing.assert_close(pooled,
                               x.mean(dim=(2, 3), keepdim=True).expand_as(x))
    pooled = local_average_pool(x, (3, 3))
    assert pooled.shape == x.shape
    torch.testing.assert_close(pooled[..., 1:-1, 1:-1],
                               torch.nn.functional.avg_pool2d(x, 3, 1))
    torch.testing.assert_close(pooled[..., 0, 1:-1], pooled[..., 1, 1:-1])
