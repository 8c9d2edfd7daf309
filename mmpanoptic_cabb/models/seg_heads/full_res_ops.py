"""Full-resolution panoptic outputs in bounded memory.

At inference the panoptic map is wanted at the original image size, which
for street scenes is 8-12 MP. Upsampling the semantic logits of all classes
to that size (65 x 12 MP floats are 3 GB) and pasting every instance mask
into an (N, H, W) stack (N x 12 MB) is what the memory goes to. The fusion
(:class:`SeamlessFusionHead`) needs neither: it reads the semantic *argmax*
and, per instance in score order, its mask. The functions here give both
without the large arrays:

- :func:`upsampled_argmax`: the argmax of the logits upsampled as
  :meth:`BaseAllClassSemanticHead.predict` does, computed a few classes at a
  time from the logits at the head's output stride; the per-pixel values
  are those of the one-call upsampling, so the argmax is the same.
- :class:`PastedMasks`: instance masks kept at the mask head's resolution
  and pasted one at a time into their box region, as mmdet's
  ``FCNMaskHead`` does on CPU (``_do_paste_mask(skip_empty=True)``, one
  instance per chunk).
- :func:`paste_instance_regions`: the paste rule of :func:`paste_instances`
  on those regions, optionally with the COCO RLE of every mask (for mAP).
- :func:`working_shape` / :func:`resize_labels_nearest`: an optional cap on
  the resolution the fusion works at, the result upsampled (nearest).
"""
import math
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from mmdet.models.roi_heads.mask_heads.fcn_mask_head import _do_paste_mask
from mmpanoptic_cabb.structures.mask_rle import region_to_rle

#: Default bound on the floats of one chunk of upsampled logits (128 MiB).
DEFAULT_CHUNK_ELEMENTS = 2**25


def channel_chunks(num_channels: int, elements_per_channel: int,
                   max_elements: int) -> List[Tuple[int, int]]:
    """Split the channels into chunks of at most ``max_elements`` floats.

    Each chunk holds at least one channel. Chunks of exactly 3 channels are
    split in two: on one thread PyTorch runs 3-channel bilinear resizes
    through a different (separable) CPU kernel whose float rounding differs
    from that of the generic kernel used for other channel counts.

    Args:
        num_channels (int): Number of channels.
        elements_per_channel (int): Floats one channel needs.
        max_elements (int): Bound on the floats of one chunk.

    Returns:
        list[tuple[int, int]]: ``[start, stop)`` of each chunk, in order.
    """
    size = max(1, int(max_elements) // max(1, int(elements_per_channel)))
    chunks = []
    for start in range(0, num_channels, size):
        stop = min(start + size, num_channels)
        if stop - start == 3:
            chunks += [(start, start + 2), (start + 2, stop)]
        else:
            chunks.append((start, stop))
    return chunks


def upsampled_argmax(logits: Tensor,
                     pad_shape: Sequence[int],
                     img_shape: Sequence[int],
                     out_shape: Optional[Sequence[int]] = None,
                     max_elements: int = DEFAULT_CHUNK_ELEMENTS) -> Tensor:
    """Class argmax of logits upsampled to the image, in channel chunks.

    The logits are upsampled (bilinear, ``align_corners=False``) to the
    padded input ``pad_shape``, cropped to ``img_shape`` and, when
    ``out_shape`` differs from it, resized to ``out_shape``: the steps of
    :meth:`BaseAllClassSemanticHead.predict`. Ties go to the lowest class,
    as ``torch.argmax``. The upsampled values are bit-identical to those of
    one call over all classes whenever PyTorch's CPU kernel for that call is
    its generic one, i.e. except for outputs with ``H + W <= 128`` and for
    3-class logits on one thread, which it sends to a separable kernel of
    different float rounding; there the argmax can differ only where two
    classes tie to rounding.

    Args:
        logits (Tensor): (C, h, w) logits at the head's output stride.
        pad_shape (Sequence[int]): ``(H_pad, W_pad)`` of the batch input.
        img_shape (Sequence[int]): ``(h_img, w_img)`` of the image in it.
        out_shape (Sequence[int], optional): Output ``(H, W)``. Defaults to
            ``img_shape``.
        max_elements (int): Bound on the floats of one chunk.

    Returns:
        Tensor: (H, W) int64 class labels.
    """
    pad_shape = tuple(int(s) for s in pad_shape[:2])
    h, w = (int(s) for s in img_shape[:2])
    out_shape = (h, w) if out_shape is None else tuple(
        int(s) for s in out_shape[:2])
    per_channel = pad_shape[0] * pad_shape[1] + (0 if out_shape == (h, w) else
                                                 out_shape[0] * out_shape[1])
    best = labels = None
    for start, stop in channel_chunks(logits.shape[0], per_channel,
                                      max_elements):
        chunk = F.interpolate(
            logits[None, start:stop],
            size=pad_shape,
            mode='bilinear',
            align_corners=False)[0, :, :h, :w]
        if out_shape != (h, w):
            chunk = F.interpolate(
                chunk[None],
                size=out_shape,
                mode='bilinear',
                align_corners=False)[0]
        index = chunk.argmax(dim=0)
        value = chunk.gather(0, index[None])[0]
        del chunk
        if best is None:
            best, labels = value, index + start
            continue
        better = value > best  # strict: ties stay with the lower class
        torch.where(better, value, best, out=best)
        torch.where(better, index + start, labels, out=labels)
    return labels


class PastedMasks:
    """Instance masks at mask-head resolution, pasted on demand.

    Args:
        probs (Tensor): (N, 1, m, m) mask probabilities (after the sigmoid,
            the class channel of each instance selected).
        bboxes (Tensor): (N, 4) boxes in the output frame, inside it (as
            the RoI head clips them).
        out_shape (Sequence[int]): ``(H, W)`` of the output frame.
        threshold (float): Binarisation threshold (``mask_thr_binary``);
            a pixel is in the mask when its probability is ``>=`` it.
    """

    def __init__(self, probs: Tensor, bboxes: Tensor, out_shape: Sequence[int],
                 threshold: float) -> None:
        assert len(probs) == len(bboxes), (probs.shape, bboxes.shape)
        self.probs, self.bboxes = probs, bboxes
        self.out_shape = (int(out_shape[0]), int(out_shape[1]))
        self.threshold = threshold

    def __len__(self) -> int:
        return len(self.bboxes)

    def paste(self, index: int) -> Tuple[Tensor, Tuple[slice, slice]]:
        """Binary mask of one instance inside its box region.

        Args:
            index (int): Instance index.

        Returns:
            tuple: ``(mask, (rows, cols))``: the (h, w) bool mask and the
            slices of the output frame it covers; the mask is empty outside
            them.
        """
        h, w = self.out_shape
        values, (rows, cols) = _do_paste_mask(
            self.probs[index:index + 1],
            self.bboxes[index:index + 1],
            h,
            w,
            skip_empty=True)
        region = (slice(int(rows.start), int(rows.stop)),
                  slice(int(cols.start), int(cols.stop)))
        return values[0] >= self.threshold, region

    def to_tensor(self) -> Tensor:
        """(N, H, W) bool stack of the full-size masks (mmdet's format)."""
        stack = torch.zeros(
            (len(self), ) + self.out_shape,
            dtype=torch.bool,
            device=self.bboxes.device)
        for index in range(len(self)):
            mask, (rows, cols) = self.paste(index)
            stack[index, rows, cols] = mask
        return stack

    def to_rles(self) -> List[dict]:
        """COCO RLE (compressed) of every mask, in instance order."""
        return [self.encode(*self.paste(index)) for index in range(len(self))]

    def encode(self, mask: Tensor, region: Tuple[slice, slice]) -> dict:
        """COCO RLE of a mask returned by :meth:`paste`."""
        rows, cols = region
        return region_to_rle(mask.cpu().numpy(), rows.start, cols.start,
                             *self.out_shape)


def paste_instance_regions(
        masks: PastedMasks,
        scores: Tensor,
        score_thr: float,
        mask_overlap: float,
        with_rles: bool = False) -> Tuple[Tensor, Tensor, Optional[list]]:
    """:func:`paste_instances` with masks pasted one at a time.

    Same rule and result: instances scoring above ``score_thr`` are pasted
    by decreasing score (stable order), a pixel belongs to the first one
    pasted on it, and an instance losing more than ``mask_overlap`` of its
    mask (or with an empty mask) is dropped. Only the (H, W) id map and one
    instance's box region exist at a time.

    Args:
        masks (PastedMasks): The instances' masks.
        scores (Tensor): (N, ) scores.
        score_thr (float): Minimum score (exclusive).
        mask_overlap (float): Largest fraction of a mask that may be lost.
        with_rles (bool): Also encode every instance's mask (all of them,
            whatever their score) as COCO RLE from the same paste.

    Returns:
        tuple: ``(id_map, kept, rles)``: (H, W) int32 map holding ``k + 1``
        at the pixels of the k-th pasted instance, (K, ) int64 indices of
        the pasted instances in paste order, and the RLEs in instance order
        (None without ``with_rles``).
    """
    device = scores.device
    id_map = torch.zeros(masks.out_shape, dtype=torch.int32, device=device)
    rles = [None] * len(masks) if with_rles else None
    kept = []
    order = torch.argsort(scores, descending=True, stable=True)
    if not with_rles:
        order = order[scores[order] > score_thr]
    for idx in order.tolist():
        mask, (rows, cols) = masks.paste(idx)
        if with_rles:
            rles[idx] = masks.encode(mask, (rows, cols))
            if not scores[idx] > score_thr:
                continue
        area = mask.sum()
        if area == 0:
            continue
        window = id_map[rows, cols]
        free = mask & (window == 0)
        lost = area - free.sum()
        if lost > mask_overlap * area:
            continue
        window[free] = len(kept) + 1
        kept.append(idx)
    return id_map, torch.tensor(kept, dtype=torch.long, device=device), rles


def working_shape(out_shape: Sequence[int],
                  max_pixels: Optional[int]) -> Tuple[int, int]:
    """Largest shape of the aspect of ``out_shape`` within ``max_pixels``.

    Args:
        out_shape (Sequence[int]): ``(H, W)`` wanted.
        max_pixels (int, optional): Cap on ``H * W``; None for no cap.

    Returns:
        tuple[int, int]: ``out_shape`` when within the cap, else
        ``(floor(H * f), floor(W * f))`` with ``f = sqrt(max_pixels / HW)``
        (at least 1 each).
    """
    h, w = int(out_shape[0]), int(out_shape[1])
    if max_pixels is None or h * w <= max_pixels:
        return h, w
    factor = math.sqrt(max_pixels / (h * w))
    return max(1, int(h * factor)), max(1, int(w * factor))


def _nearest_index(out_size: int, size: int, device) -> Tensor:
    """Source index of each output index, PyTorch's 'nearest' rule (in
    float32: ``floor(d * (size / out_size))``)."""
    index = torch.arange(out_size, device=device)
    if out_size == size:
        return index
    if out_size == 2 * size:
        return index >> 1
    scale = torch.tensor(size, dtype=torch.float32) / out_size
    return (index.float() * scale).floor().long().clamp_(max=size - 1)


def resize_labels_nearest(labels: Tensor, out_shape: Sequence[int]) -> Tensor:
    """Nearest-neighbour resize of an integer map (exact, by indexing).

    The pixel mapping of ``F.interpolate(mode='nearest')`` on float32 maps,
    without converting the values.

    Args:
        labels (Tensor): (h, w) integer map.
        out_shape (Sequence[int]): ``(H, W)``.

    Returns:
        Tensor: (H, W) map of ``labels``' dtype.
    """
    h, w = labels.shape[-2:]
    out_h, out_w = int(out_shape[0]), int(out_shape[1])
    if (out_h, out_w) == (h, w):
        return labels
    rows = _nearest_index(out_h, h, labels.device)
    cols = _nearest_index(out_w, w, labels.device)
    return labels[rows][:, cols]
