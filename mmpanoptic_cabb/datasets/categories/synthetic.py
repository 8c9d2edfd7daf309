"""Categories of the embedded synthetic panoptic dataset.

Category ids are deliberately non-contiguous (as in COCO panoptic) so that code paths that map
category ids to contiguous labels are exercised.
"""
from typing import Dict, List

# (category id, name, isthing, palette colour), things first: mmdet's panoptic datasets map
# categories to contiguous labels in this order and expect labels 0..num_things-1 to be things.
SYNTHETIC_CATEGORIES: List[Dict] = [
    dict(id=11, name='car', isthing=1, color=(0, 0, 142)),
    dict(id=13, name='person', isthing=1, color=(220, 20, 60)),
    dict(id=17, name='sign', isthing=1, color=(220, 220, 0)),
    dict(id=1, name='sky', isthing=0, color=(70, 130, 180)),
    dict(id=3, name='road', isthing=0, color=(128, 64, 128)),
    dict(id=5, name='vegetation', isthing=0, color=(107, 142, 35)),
    dict(id=7, name='building', isthing=0, color=(70, 70, 70)),
]

STUFF_NAMES = tuple(c['name'] for c in SYNTHETIC_CATEGORIES if not c['isthing'])
THING_NAMES = tuple(c['name'] for c in SYNTHETIC_CATEGORIES if c['isthing'])
CATEGORY_BY_NAME = {c['name']: c for c in SYNTHETIC_CATEGORIES}


def synthetic_metainfo() -> dict:
    """Return the METAINFO dict in mmdet's CocoPanopticDataset layout.

    Things come first, then stuff, as mmdet's panoptic datasets expect (labels ``0..num_things-1``
    are things).

    Returns:
        dict: ``classes``, ``thing_classes``, ``stuff_classes`` and ``palette``.
    """
    things = [c for c in SYNTHETIC_CATEGORIES if c['isthing']]
    stuff = [c for c in SYNTHETIC_CATEGORIES if not c['isthing']]
    ordered = things + stuff
    return dict(
        classes=tuple(c['name'] for c in ordered),
        thing_classes=tuple(c['name'] for c in things),
        stuff_classes=tuple(c['name'] for c in stuff),
        palette=[tuple(c['color']) for c in ordered])
