"""Small random COCO panoptic cases (ground truth + prediction) for tests.

A case covers void pixels on both sides, crowd regions (at most one per thing
class and image, as in COCO), unmatched and mostly-void predictions, tiny
segments, classes absent from both sides, non-contiguous category ids and
random 24-bit segment ids.
"""
import numpy as np

from mmpanoptic_cabb.evaluation.functional import write_coco_panoptic_pair
from mmpanoptic_cabb.structures.panoptic_png import MAX_PANOPTIC_ID

# category ids deliberately non-contiguous; class 'absent' never appears
CATEGORIES = [
    dict(id=1, name='person', isthing=1),
    dict(id=3, name='car', isthing=1),
    dict(id=8, name='bike', isthing=1),
    dict(id=17, name='absent_thing', isthing=1),
    dict(id=20, name='road', isthing=0),
    dict(id=21, name='sky', isthing=0),
    dict(id=40, name='building', isthing=0),
    dict(id=41, name='absent_stuff', isthing=0),
]
THING_CATS = [1, 3, 8]
STUFF_CATS = [20, 21, 40]


def _unique_ids(rng, n):
    ids = set()
    while len(ids) < n:
        ids.add(int(rng.integers(1, MAX_PANOPTIC_ID + 1)))
    return list(ids)


def _random_box(rng, h, w, max_frac=0.5):
    bh = int(rng.integers(1, max(2, int(h * max_frac))))
    bw = int(rng.integers(1, max(2, int(w * max_frac))))
    y = int(rng.integers(0, h - bh + 1))
    x = int(rng.integers(0, w - bw + 1))
    return slice(y, y + bh), slice(x, x + bw)


def make_gt(rng, h, w):
    """Random ground truth: (id map, segments_info list)."""
    ids = np.zeros((h, w), dtype=np.int64)
    segments = []
    stuff = rng.choice(STUFF_CATS, size=int(rng.integers(1, 4)),
                       replace=False)
    new_ids = iter(_unique_ids(rng, 64))
    # stuff: horizontal bands
    bounds = np.sort(rng.choice(np.arange(1, h), len(stuff) - 1,
                                replace=False)) if len(stuff) > 1 else []
    edges = [0, *bounds, h]
    for k, cat in enumerate(stuff):
        sid = next(new_ids)
        ids[edges[k]:edges[k + 1]] = sid
        segments.append(dict(id=sid, category_id=int(cat), iscrowd=0))
    crowd_done = set()
    for _ in range(int(rng.integers(0, 9))):
        cat = int(rng.choice(THING_CATS))
        crowd = cat not in crowd_done and rng.random() < 0.25
        frac = 0.15 if rng.random() < 0.3 else 0.5  # some tiny ones
        sid = next(new_ids)
        ids[_random_box(rng, h, w, frac)] = sid
        segments.append(dict(id=sid, category_id=cat, iscrowd=int(crowd)))
        if crowd:
            crowd_done.add(cat)
    # void patches
    for _ in range(int(rng.integers(0, 3))):
        ids[_random_box(rng, h, w, 0.4)] = 0
    present = set(np.unique(ids).tolist())
    segments = [s for s in segments if s['id'] in present]
    return ids, segments


def make_pred(rng, gt_ids, gt_segments):
    """A prediction derived from the ground truth with typical mistakes."""
    h, w = gt_ids.shape
    ids = np.zeros((h, w), dtype=np.int64)
    segments = []
    new_ids = iter(_unique_ids(rng, 64))
    for seg in gt_segments:
        mask = gt_ids == seg['id']
        roll = rng.random()
        if roll < 0.15:
            continue  # missed
        cat = seg['category_id']
        if roll < 0.25:  # wrong class
            pool = THING_CATS if cat in THING_CATS else STUFF_CATS
            cat = int(rng.choice(pool))
        if rng.random() < 0.5:  # shifted
            mask = np.roll(mask, int(rng.integers(-4, 5)),
                           axis=int(rng.integers(0, 2)))
        sid = next(new_ids)
        ids[mask] = sid
        segments.append(dict(id=sid, category_id=int(cat)))
    for _ in range(int(rng.integers(0, 4))):  # spurious segments
        sid = next(new_ids)
        cat = int(rng.choice(THING_CATS + STUFF_CATS))
        ids[_random_box(rng, h, w, 0.3)] = sid
        segments.append(dict(id=sid, category_id=cat))
    if rng.random() < 0.5:  # predicted void patch
        ids[_random_box(rng, h, w, 0.3)] = 0
    present = set(np.unique(ids).tolist())
    segments = [s for s in segments if s['id'] in present]
    return ids, segments


def make_case(seed, num_images=4, h=24, w=32):
    """Random ground truth and prediction for several images.

    Returns:
        list[dict]: per image ``gt_ids, gt_segments, pred_ids,
        pred_segments``.
    """
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(num_images):
        gt_ids, gt_segments = make_gt(rng, h, w)
        pred_ids, pred_segments = make_pred(rng, gt_ids, gt_segments)
        images.append(
            dict(
                gt_ids=gt_ids,
                gt_segments=gt_segments,
                pred_ids=pred_ids,
                pred_segments=pred_segments))
    return images


def write_case(root, images, categories=CATEGORIES):
    """Write a case as COCO panoptic JSON + PNG folders.

    Returns:
        dict: paths ``gt_json, gt_folder, pred_json, pred_folder``.
    """
    samples = []
    for k, image in enumerate(images):
        gt_segments = [
            dict(seg, area=int((image['gt_ids'] == seg['id']).sum()))
            for seg in image['gt_segments']
        ]
        samples.append(
            dict(image, file_name=f'img_{k:03d}.png', gt_segments=gt_segments))
    return write_coco_panoptic_pair(root, samples, categories)
