"""OHEMCrossEntropyLoss: per-image top-k pixel cross entropy (Seamless)."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import mmpanoptic_cabb  # noqa: F401  (registers the modules)
from mmdet.registry import MODELS
from mmpanoptic_cabb.models.losses import (OHEMCrossEntropyLoss,
                                           ohem_cross_entropy)

IGNORE = 255


def reference_ohem(logits: np.ndarray,
                   labels: np.ndarray,
                   ratio: float,
                   ignore_index: int = IGNORE) -> float:
    """Plain numpy/loop version: per image, per pixel CE (0 where ignored),
    sort descending, mean of the first ceil(ratio * H * W), mean over
    images."""
    image_losses = []
    for logit, label in zip(logits, labels):
        num_classes = logit.shape[0]
        flat_logits = logit.reshape(num_classes, -1).astype(np.float64)
        flat_labels = label.reshape(-1)
        losses = []
        for p in range(flat_labels.size):
            if flat_labels[p] == ignore_index:
                losses.append(0.0)
                continue
            z = flat_logits[:, p]
            log_norm = z.max() + math.log(np.exp(z - z.max()).sum())
            losses.append(log_norm - z[flat_labels[p]])
        losses.sort(reverse=True)
        k = int(math.ceil(len(losses) * ratio))
        image_losses.append(sum(losses[:k]) / k)
    return sum(image_losses) / len(image_losses)


def _random_batch(rng, n, c, h, w, void=0.3):
    logits = rng.randn(n, c, h, w).astype(np.float32) * 3
    labels = rng.randint(0, c, (n, h, w))
    labels[rng.rand(n, h, w) < void] = IGNORE
    return logits, labels


@pytest.mark.parametrize('ratio', [0.01, 0.1, 0.25, 0.5, 0.7, 1.0])
@pytest.mark.parametrize('shape', [(2, 5, 7, 9), (3, 4, 1, 1), (1, 3, 1, 2),
                                   (2, 6, 2, 3)])
def test_matches_hand_written_reference(ratio, shape):
    rng = np.random.RandomState(0)
    logits, labels = _random_batch(rng, *shape)
    loss = ohem_cross_entropy(
        torch.from_numpy(logits), torch.from_numpy(labels), ratio=ratio)
    expected = reference_ohem(logits, labels, ratio)
    assert loss.item() == pytest.approx(expected, rel=1e-5, abs=1e-6)
    # the registered class (weight 1, as the semantic heads build it)
    module = MODELS.build(
        dict(type='OHEMCrossEntropyLoss', ratio=ratio, loss_weight=2.0))
    assert isinstance(module, OHEMCrossEntropyLoss)
    assert module(torch.from_numpy(logits),
                  torch.from_numpy(labels)).item() == pytest.approx(
                      2 * expected, rel=1e-5, abs=1e-6)


def test_ratio_one_is_mean_over_all_pixels_with_void_as_zero():
    rng = np.random.RandomState(1)
    logits, labels = _random_batch(rng, 2, 4, 6, 5)
    logits_t, labels_t = torch.from_numpy(logits), torch.from_numpy(labels)
    loss = ohem_cross_entropy(logits_t, labels_t, ratio=1.0)
    plain = F.cross_entropy(
        logits_t, labels_t, ignore_index=IGNORE, reduction='none').mean()
    torch.testing.assert_close(loss, plain)
    # not the mean over the labelled pixels only
    labelled_mean = F.cross_entropy(logits_t, labels_t, ignore_index=IGNORE)
    assert loss < labelled_mean


def test_per_image_not_batch_joint():
    """An easy image keeps its own k pixels instead of losing them to a hard
    image (Panoptic-DeepLab's batch-joint DeepLabCE would)."""
    labels = torch.zeros(2, 2, 2, dtype=torch.long)
    logits = torch.zeros(2, 3, 2, 2)
    logits[0, 0] = 10.0  # image 0: confidently right, tiny losses
    logits[1, 1] = 10.0  # image 1: confidently wrong, large losses
    loss = ohem_cross_entropy(logits, labels, ratio=0.25)  # k = 1 per image
    per_pixel = F.cross_entropy(logits, labels, reduction='none')
    expected = (per_pixel[0].max() + per_pixel[1].max()) / 2
    torch.testing.assert_close(loss, expected)


def test_gradient_reaches_only_kept_pixels():
    rng = np.random.RandomState(2)
    logits, labels = _random_batch(rng, 2, 5, 8, 8, void=0.2)
    logits_t = torch.from_numpy(logits).requires_grad_()
    labels_t = torch.from_numpy(labels)
    ratio = 0.25
    ohem_cross_entropy(logits_t, labels_t, ratio=ratio).backward()
    per_pixel = F.cross_entropy(
        logits_t.detach(), labels_t, ignore_index=IGNORE,
        reduction='none').reshape(2, -1)
    k = math.ceil(64 * ratio)
    assert k < (labels_t != IGNORE).reshape(2, -1).sum(1).min()
    grad_norm = logits_t.grad.abs().sum(1).reshape(2, -1)
    for n in range(2):
        kept = torch.zeros(64, dtype=torch.bool)
        kept[per_pixel[n].argsort(descending=True)[:k]] = True
        assert (grad_norm[n][kept] > 0).all()
        assert (grad_norm[n][~kept] == 0).all()
        # each kept pixel's CE gradient is divided by k and by N images
        probs = logits_t.detach()[n].reshape(5, -1).softmax(0)
        one_hot = F.one_hot(labels_t[n].reshape(-1).clamp(max=4), 5).T
        expected = (probs - one_hot) / (k * 2)
        got = logits_t.grad[n].reshape(5, -1)
        torch.testing.assert_close(got[:, kept], expected[:, kept])


def test_zero_weight_pixels_leave_the_population():
    """Batch padding (weight 0) does not count in H * W: the loss of a
    padded image equals the loss of the image alone."""
    rng = np.random.RandomState(3)
    logits, labels = _random_batch(rng, 1, 4, 6, 7)
    logits_t, labels_t = torch.from_numpy(logits), torch.from_numpy(labels)
    padded_logits = torch.randn(1, 4, 8, 10)
    padded_labels = torch.full((1, 8, 10), IGNORE, dtype=torch.long)
    padded_logits[..., :6, :7] = logits_t
    padded_labels[..., :6, :7] = labels_t
    weight = torch.zeros(1, 8, 10)
    weight[..., :6, :7] = 1
    for ratio in (0.1, 0.25, 1.0):
        alone = ohem_cross_entropy(logits_t, labels_t, ratio=ratio)
        padded = ohem_cross_entropy(
            padded_logits, padded_labels, ratio=ratio, weight=weight)
        torch.testing.assert_close(padded, alone)
    # an all-zero weight contributes 0, not NaN
    empty = ohem_cross_entropy(
        padded_logits, padded_labels, weight=torch.zeros(1, 8, 10))
    assert empty.item() == 0.0


def test_reductions_and_validation():
    rng = np.random.RandomState(4)
    logits, labels = _random_batch(rng, 3, 4, 5, 5)
    logits_t, labels_t = torch.from_numpy(logits), torch.from_numpy(labels)
    per_image = ohem_cross_entropy(logits_t, labels_t, reduction='none')
    assert per_image.shape == (3, )
    for n in range(3):
        assert per_image[n].item() == pytest.approx(
            reference_ohem(logits[n:n + 1], labels[n:n + 1], 0.25), rel=1e-5)
    loss = OHEMCrossEntropyLoss()
    torch.testing.assert_close(
        loss(logits_t, labels_t, reduction_override='sum'), per_image.sum())
    torch.testing.assert_close(
        loss(logits_t, labels_t, avg_factor=6.0),
        per_image.sum() / 6)
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(ValueError, match='ratio'):
            OHEMCrossEntropyLoss(ratio=bad)
    with pytest.raises(ValueError, match='expected pred'):
        ohem_cross_entropy(logits_t, labels_t[:, 0])


@settings(max_examples=60, deadline=None)
@given(
    ratio=st.floats(min_value=1e-3, max_value=1.0),
    n=st.integers(1, 3),
    c=st.integers(2, 6),
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    void=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**31 - 1))
def test_property_at_least_plain_mean_and_equal_at_ratio_one(
        ratio, n, c, h, w, void, seed):
    rng = np.random.RandomState(seed)
    logits, labels = _random_batch(rng, n, c, h, w, void=void)
    logits_t = torch.from_numpy(logits).double()
    labels_t = torch.from_numpy(labels)
    plain = F.cross_entropy(
        logits_t, labels_t, ignore_index=IGNORE, reduction='none').mean()
    loss = ohem_cross_entropy(logits_t, labels_t, ratio=ratio)
    # the mean of the top-k of each image is at least that image's mean
    assert loss.item() >= plain.item() - 1e-9
    assert loss.item() == pytest.approx(
        reference_ohem(logits_t.numpy(), labels, ratio), rel=1e-7, abs=1e-9)
    torch.testing.assert_close(
        ohem_cross_entropy(logits_t, labels_t, ratio=1.0), plain)
