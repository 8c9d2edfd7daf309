"""Tests of the dataset converters, and the checks of their output they
share."""
import json
import os.path as osp

import numpy as np

from mmpanoptic_cabb.structures.panoptic_png import read_panoptic_png


def load_converted(out: str, split: str = 'train') -> dict:
    """The COCO panoptic JSON a converter wrote for ``split`` under
    ``out``."""
    with open(osp.join(out, 'annotations', f'panoptic_{split}.json')) as f:
        return json.load(f)


def converted_segments(out: str, ann: dict, split: str = 'train') -> tuple:
    """Segment ids of the PNG of ``ann`` and its segments by id; checks that
    the PNG holds exactly the listed segments (besides void).

    Returns:
        tuple: the (H, W) id map and ``{segment id: segments_info entry}``.
    """
    ids = read_panoptic_png(
        osp.join(out, 'annotations', f'panoptic_{split}', ann['file_name']))
    segs = {s['id']: s for s in ann['segments_info']}
    assert set(np.unique(ids).tolist()) - {0} == set(segs)
    return ids, segs


def segment_classes(segs: dict) -> dict:
    """``{segment id: (category id, iscrowd)}`` of segments by id."""
    return {k: (s['category_id'], s['iscrowd']) for k, s in segs.items()}


def reference_segment(mask: np.ndarray) -> tuple:
    """Area and [x, y, w, h] of a boolean mask, computed the direct way."""
    ys, xs = np.nonzero(mask)
    return int(mask.sum()), [
        int(xs.min()),
        int(ys.min()),
        int(xs.max() - xs.min() + 1),
        int(ys.max() - ys.min() + 1)
    ]
