"""SeamlessFusionHead on hand-made predictions.

Score order, overlap removal, stuff area limit, leftover thing pixels.
"""
import torch
from mmengine.structures import InstanceData

from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmpanoptic_cabb.models.seg_heads import (SeamlessFusionHead,
                                              paste_instances)

H, W = 10, 12
T, S = 2, 2  # things 0, 1; stuff 2, 3
VOID = T + S


def _box_mask(y0, y1, x0, x1):
    mask = torch.zeros(H, W, dtype=torch.bool)
    mask[y0:y1, x0:x1] = True
    return mask


def _logits_from_labels(labels: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.one_hot(labels, T + S).permute(2, 0, 1).float()


def _head(**test_cfg):
    cfg = dict(score_thr=0.5, mask_overlap=0.5, stuff_area_limit=4)
    cfg.update(test_cfg)
    return SeamlessFusionHead(
        num_things_classes=T, num_stuff_classes=S, test_cfg=cfg)


def _instances(masks, scores, labels):
    return InstanceData(
        masks=torch.stack(masks),
        scores=torch.tensor(scores),
        labels=torch.tensor(labels),
        bboxes=torch.zeros(len(masks), 4))


def test_paste_instances_score_order_and_overlap():
    high = _box_mask(0, 4, 0, 4)  # 16 px, score .9
    low = _box_mask(2, 6, 2, 6)  # 16 px, 4 shared with `high`
    covered = _box_mask(0, 4, 1, 4)  # 12 px, all inside `high`
    masks = torch.stack([low, covered, high])
    scores = torch.tensor([0.8, 0.7, 0.9])
    id_map, kept = paste_instances(
        masks, scores, score_thr=0.5, mask_overlap=0.5)
    assert kept.tolist() == [2, 0]  # highest score first
    assert (id_map[high] == 1).all()  # shared pixels: first pasted
    assert (id_map[low & ~high] == 2).all()
    assert int((id_map == 2).sum()) == 12
    assert int((id_map > 0).sum()) == 28


def test_paste_instances_thresholds():
    a = _box_mask(0, 4, 0, 4)
    b = _box_mask(0, 4, 2, 6)  # loses exactly half to `a`
    masks = torch.stack([a, b, _box_mask(6, 8, 6, 8)])
    scores = torch.tensor([0.9, 0.8, 0.5])  # the last is not above 0.5
    _, kept = paste_instances(masks, scores, 0.5, mask_overlap=0.5)
    assert kept.tolist() == [0, 1]
    _, kept = paste_instances(masks, scores, 0.5, mask_overlap=0.4)
    assert kept.tolist() == [0]
    empty = torch.zeros(0, H, W, dtype=torch.bool)
    id_map, kept = paste_instances(empty, torch.zeros(0), 0.5, 0.5)
    assert kept.numel() == 0 and not id_map.any()


def test_fusion_rules():
    # Semantic map: stuff 2 everywhere, a 2-pixel stuff-3 blob (below the
    # area limit), a thing-1 region with no instance, thing-0 under the car.
    sem = torch.full((H, W), 2, dtype=torch.long)
    sem[9, 10:12] = 3  # small stuff segment -> void
    sem[7:9, 0:3] = 1  # thing pixels without instance -> void
    sem[0:6, 0:6] = 0
    car = _box_mask(0, 4, 0, 4)  # label 0, score .95
    truck = _box_mask(2, 6, 2, 6)  # label 1, score .6, loses 4/16
    ghost = _box_mask(0, 3, 0, 3)  # label 0, score .55, fully covered
    weak = _box_mask(5, 7, 8, 11)  # label 1, score .3 (below threshold)
    instances = _instances([truck, ghost, weak, car], [0.6, 0.55, 0.3, 0.95],
                           [1, 0, 1, 0])
    pan = _head()._predict_single(instances, _logits_from_labels(sem))
    assert pan.sem_seg.shape == (1, H, W)
    assert pan.sem_seg.dtype == torch.int32
    pan = pan.sem_seg[0].long()

    assert (pan[car] == 0 + 1 * INSTANCE_OFFSET).all()
    assert (pan[truck & ~car] == 1 + 2 * INSTANCE_OFFSET).all()
    assert not (pan == 0 + 3 * INSTANCE_OFFSET).any()  # no third instance
    # free pixels: stuff 2 stays, the small stuff-3 blob and the leftover
    # thing pixels (semantic thing, no instance) become void
    assert (pan[9, 10:12] == VOID).all()
    assert (pan[7:9, 0:3] == VOID).all()
    leftover_thing0 = (sem == 0) & ~car & ~truck
    assert leftover_thing0.any() and (pan[leftover_thing0] == VOID).all()
    # the weak instance is not pasted; its pixels take the semantic stuff
    assert (pan[weak] == 2).all()
    stuff2 = (sem == 2) & ~car & ~truck
    assert (pan[stuff2] == 2).all()
    assert set(pan.unique().tolist()) == {
        2, VOID, 0 + INSTANCE_OFFSET, 1 + 2 * INSTANCE_OFFSET
    }


def test_stuff_area_counts_only_free_pixels():
    # Stuff 3 has 6 pixels, 4 of them under an instance: 2 free < limit 4.
    sem = torch.full((H, W), 2, dtype=torch.long)
    sem[0, 0:6] = 3
    inst = _instances([_box_mask(0, 1, 0, 4)], [0.9], [0])
    pan = _head()._predict_single(inst, _logits_from_labels(sem)).sem_seg[0]
    assert (pan[0, 0:4] == INSTANCE_OFFSET).all()
    assert (pan[0, 4:6] == VOID).all()
    # with a lower limit the 2 free pixels stay stuff 3
    pan = _head(stuff_area_limit=2)._predict_single(
        inst, _logits_from_labels(sem)).sem_seg[0]
    assert (pan[0, 4:6] == 3).all()


def test_no_instances_and_batch_predict():
    sem = torch.full((H, W), 3, dtype=torch.long)
    sem[:, :2] = 1
    no_inst = InstanceData(
        masks=torch.zeros(0, H, W, dtype=torch.bool),
        scores=torch.zeros(0),
        labels=torch.zeros(0, dtype=torch.long),
        bboxes=torch.zeros(0, 4))
    results = _head().predict([no_inst, no_inst],
                              [_logits_from_labels(sem)] * 2)
    assert len(results) == 2
    pan = results[0].sem_seg[0]
    assert (pan[:, :2] == VOID).all() and (pan[:, 2:] == 3).all()


def test_default_test_cfg():
    head = SeamlessFusionHead(num_things_classes=T, num_stuff_classes=S)
    assert (head.score_thr, head.mask_overlap,
            head.stuff_area_limit) == (0.5, 0.5, 4096)
    assert head.loss() == {}
