"""Panoptic categories of Mapillary Vistas v1.2, Cityscapes and IDD (level 3).

Every table lists ``(category id, name, isthing, colour, supercategory)`` in
the dataset's official id order, with the ids its panoptic annotations use:

- Mapillary Vistas v1.2: the 65 categories of ``panoptic_2018.json`` (ids
  1..65, the order of ``config_v1.2.json`` without ``Unlabeled``); 37 things,
  the labels with ``instances: true``.
- Cityscapes: the 19 evaluated labels of ``cityscapesscripts.helpers.labels``
  with their label ids (7..33) as category ids, as ``createPanopticImgs``
  writes them; 8 things.
- IDD: the 26 level-3 ids (0..25) of the IDD toolkit's ``anue_labels.py``; each
  named after the first label of that level-3 id not ignored in evaluation, as
  the toolkit's panoptic converter names them; 9 things.

Contiguous labels (what models predict) put the things first, each group in
official id order: see :func:`things_first` and
:func:`metainfo_from_categories`.
"""
from typing import Dict, List, Sequence, Tuple

Category = Tuple[int, str, int, Tuple[int, int, int], str]

MAPILLARY_VISTAS_V12_CATEGORIES: Tuple[Category, ...] = (
    (1, 'Bird', 1, (165, 42, 42), 'animal--bird'),
    (2, 'Ground Animal', 1, (0, 192, 0), 'animal--ground-animal'),
    (3, 'Curb', 0, (196, 196, 196), 'construction--barrier--curb'),
    (4, 'Fence', 0, (190, 153, 153), 'construction--barrier--fence'),
    (5, 'Guard Rail', 0, (180, 165, 180), 'construction--barrier--guard-rail'),
    (6, 'Barrier', 0, (90, 120, 150), 'construction--barrier--other-barrier'),
    (7, 'Wall', 0, (102, 102, 156), 'construction--barrier--wall'),
    (8, 'Bike Lane', 0, (128, 64, 255), 'construction--flat--bike-lane'),
    (9, 'Crosswalk - Plain', 1, (140, 140, 200),
     'construction--flat--crosswalk-plain'),
    (10, 'Curb Cut', 0, (170, 170, 170), 'construction--flat--curb-cut'),
    (11, 'Parking', 0, (250, 170, 160), 'construction--flat--parking'),
    (12, 'Pedestrian Area', 0, (96, 96, 96),
     'construction--flat--pedestrian-area'),
    (13, 'Rail Track', 0, (230, 150, 140), 'construction--flat--rail-track'),
    (14, 'Road', 0, (128, 64, 128), 'construction--flat--road'),
    (15, 'Service Lane', 0, (110, 110, 110),
     'construction--flat--service-lane'),
    (16, 'Sidewalk', 0, (244, 35, 232), 'construction--flat--sidewalk'),
    (17, 'Bridge', 0, (150, 100, 100), 'construction--structure--bridge'),
    (18, 'Building', 0, (70, 70, 70), 'construction--structure--building'),
    (19, 'Tunnel', 0, (150, 120, 90), 'construction--structure--tunnel'),
    (20, 'Person', 1, (220, 20, 60), 'human--person'),
    (21, 'Bicyclist', 1, (255, 0, 0), 'human--rider--bicyclist'),
    (22, 'Motorcyclist', 1, (255, 0, 100), 'human--rider--motorcyclist'),
    (23, 'Other Rider', 1, (255, 0, 200), 'human--rider--other-rider'),
    (24, 'Lane Marking - Crosswalk', 1, (200, 128, 128),
     'marking--crosswalk-zebra'),
    (25, 'Lane Marking - General', 0, (255, 255, 255), 'marking--general'),
    (26, 'Mountain', 0, (64, 170, 64), 'nature--mountain'),
    (27, 'Sand', 0, (230, 160, 50), 'nature--sand'),
    (28, 'Sky', 0, (70, 130, 180), 'nature--sky'),
    (29, 'Snow', 0, (190, 255, 255), 'nature--snow'),
    (30, 'Terrain', 0, (152, 251, 152), 'nature--terrain'),
    (31, 'Vegetation', 0, (107, 142, 35), 'nature--vegetation'),
    (32, 'Water', 0, (0, 170, 30), 'nature--water'),
    (33, 'Banner', 1, (255, 255, 128), 'object--banner'),
    (34, 'Bench', 1, (250, 0, 30), 'object--bench'),
    (35, 'Bike Rack', 1, (100, 140, 180), 'object--bike-rack'),
    (36, 'Billboard', 1, (220, 220, 220), 'object--billboard'),
    (37, 'Catch Basin', 1, (220, 128, 128), 'object--catch-basin'),
    (38, 'CCTV Camera', 1, (222, 40, 40), 'object--cctv-camera'),
    (39, 'Fire Hydrant', 1, (100, 170, 30), 'object--fire-hydrant'),
    (40, 'Junction Box', 1, (40, 40, 40), 'object--junction-box'),
    (41, 'Mailbox', 1, (33, 33, 33), 'object--mailbox'),
    (42, 'Manhole', 1, (100, 128, 160), 'object--manhole'),
    (43, 'Phone Booth', 1, (142, 0, 0), 'object--phone-booth'),
    (44, 'Pothole', 0, (70, 100, 150), 'object--pothole'),
    (45, 'Street Light', 1, (210, 170, 100), 'object--street-light'),
    (46, 'Pole', 1, (153, 153, 153), 'object--support--pole'),
    (47, 'Traffic Sign Frame', 1, (128, 128, 128),
     'object--support--traffic-sign-frame'),
    (48, 'Utility Pole', 1, (0, 0, 80), 'object--support--utility-pole'),
    (49, 'Traffic Light', 1, (250, 170, 30), 'object--traffic-light'),
    (50, 'Traffic Sign (Back)', 1, (192, 192, 192),
     'object--traffic-sign--back'),
    (51, 'Traffic Sign (Front)', 1, (220, 220, 0),
     'object--traffic-sign--front'),
    (52, 'Trash Can', 1, (140, 140, 20), 'object--trash-can'),
    (53, 'Bicycle', 1, (119, 11, 32), 'object--vehicle--bicycle'),
    (54, 'Boat', 1, (150, 0, 255), 'object--vehicle--boat'),
    (55, 'Bus', 1, (0, 60, 100), 'object--vehicle--bus'),
    (56, 'Car', 1, (0, 0, 142), 'object--vehicle--car'),
    (57, 'Caravan', 1, (0, 0, 90), 'object--vehicle--caravan'),
    (58, 'Motorcycle', 1, (0, 0, 230), 'object--vehicle--motorcycle'),
    (59, 'On Rails', 0, (0, 80, 100), 'object--vehicle--on-rails'),
    (60, 'Other Vehicle', 1, (128, 64, 64), 'object--vehicle--other-vehicle'),
    (61, 'Trailer', 1, (0, 0, 110), 'object--vehicle--trailer'),
    (62, 'Truck', 1, (0, 0, 70), 'object--vehicle--truck'),
    (63, 'Wheeled Slow', 1, (0, 0, 192), 'object--vehicle--wheeled-slow'),
    (64, 'Car Mount', 0, (32, 32, 32), 'void--car-mount'),
    (65, 'Ego Vehicle', 0, (120, 10, 10), 'void--ego-vehicle'),
)

CITYSCAPES_CATEGORIES: Tuple[Category, ...] = (
    (7, 'road', 0, (128, 64, 128), 'flat'),
    (8, 'sidewalk', 0, (244, 35, 232), 'flat'),
    (11, 'building', 0, (70, 70, 70), 'construction'),
    (12, 'wall', 0, (102, 102, 156), 'construction'),
    (13, 'fence', 0, (190, 153, 153), 'construction'),
    (17, 'pole', 0, (153, 153, 153), 'object'),
    (19, 'traffic light', 0, (250, 170, 30), 'object'),
    (20, 'traffic sign', 0, (220, 220, 0), 'object'),
    (21, 'vegetation', 0, (107, 142, 35), 'nature'),
    (22, 'terrain', 0, (152, 251, 152), 'nature'),
    (23, 'sky', 0, (70, 130, 180), 'sky'),
    (24, 'person', 1, (220, 20, 60), 'human'),
    (25, 'rider', 1, (255, 0, 0), 'human'),
    (26, 'car', 1, (0, 0, 142), 'vehicle'),
    (27, 'truck', 1, (0, 0, 70), 'vehicle'),
    (28, 'bus', 1, (0, 60, 100), 'vehicle'),
    (31, 'train', 1, (0, 80, 100), 'vehicle'),
    (32, 'motorcycle', 1, (0, 0, 230), 'vehicle'),
    (33, 'bicycle', 1, (119, 11, 32), 'vehicle'),
)
# Cityscapes label ids 0..33 all exist; these carry instance ids (label id *
# 1000 + k), the evaluated ones plus caravan (29) and trailer (30), which are
# void in the panoptic task.
CITYSCAPES_MAX_LABEL_ID = 33
CITYSCAPES_INSTANCE_LABEL_IDS = frozenset(range(24, 34))

IDD_LEVEL3_CATEGORIES: Tuple[Category, ...] = (
    (0, 'road', 0, (128, 64, 128), 'drivable'),
    (1, 'parking', 0, (250, 170, 160), 'drivable'),
    (2, 'sidewalk', 0, (244, 35, 232), 'non-drivable'),
    (3, 'rail track', 0, (230, 150, 140), 'non-drivable'),
    (4, 'person', 1, (220, 20, 60), 'living-thing'),
    (5, 'rider', 1, (255, 0, 0), 'living-thing'),
    (6, 'motorcycle', 1, (0, 0, 230), '2-wheeler'),
    (7, 'bicycle', 1, (119, 11, 32), '2-wheeler'),
    (8, 'autorickshaw', 1, (255, 204, 54), 'autorickshaw'),
    (9, 'car', 1, (0, 0, 142), 'car'),
    (10, 'truck', 1, (0, 0, 70), 'large-vehicle'),
    (11, 'bus', 1, (0, 60, 100), 'large-vehicle'),
    (12, 'vehicle fallback', 1, (136, 143, 153), 'large-vehicle'),
    (13, 'curb', 0, (220, 190, 40), 'barrier'),
    (14, 'wall', 0, (102, 102, 156), 'barrier'),
    (15, 'fence', 0, (190, 153, 153), 'barrier'),
    (16, 'guard rail', 0, (180, 165, 180), 'barrier'),
    (17, 'billboard', 0, (174, 64, 67), 'structures'),
    (18, 'traffic sign', 0, (220, 220, 0), 'structures'),
    (19, 'traffic light', 0, (250, 170, 30), 'structures'),
    (20, 'pole', 0, (153, 153, 153), 'structures'),
    (21, 'obs-str-bar-fallback', 0, (169, 187, 214), 'structures'),
    (22, 'building', 0, (70, 70, 70), 'construction'),
    (23, 'bridge', 0, (150, 100, 100), 'construction'),
    (24, 'vegetation', 0, (107, 142, 35), 'vegetation'),
    (25, 'sky', 0, (70, 130, 180), 'sky'),
)
# Level-3 id of void pixels (unlabeled, ego vehicle, borders, out of roi,
# license plates).
IDD_VOID_LEVEL3_ID = 255


def things_first(categories: Sequence[Category]) -> List[Category]:
    """Reorder categories things first, then stuff, each keeping its order.

    Args:
        categories (Sequence[Category]): ``(id, name, isthing, colour,
            supercategory)``.

    Returns:
        list[Category]: The reordered categories.
    """
    return ([c for c in categories if c[2]] +
            [c for c in categories if not c[2]])


def coco_categories(categories: Sequence[Category]) -> List[Dict]:
    """COCO panoptic ``categories`` entries, things first.

    Args:
        categories (Sequence[Category]): A category table of this module.

    Returns:
        list[dict]: ``id``, ``name``, ``isthing``, ``color`` and
        ``supercategory`` of each category, in contiguous-label order.
    """
    return [
        dict(
            id=cid,
            name=name,
            isthing=int(isthing),
            color=list(color),
            supercategory=sup)
        for cid, name, isthing, color, sup in things_first(categories)
    ]


def metainfo_from_categories(categories: Sequence[Category]) -> dict:
    """METAINFO in the layout of mmdet's ``CocoPanopticDataset``, things first.

    Args:
        categories (Sequence[Category]): A category table of this module.

    Returns:
        dict: ``classes``, ``thing_classes``, ``stuff_classes`` and
        ``palette``.
    """
    ordered = things_first(categories)
    return dict(
        classes=tuple(c[1] for c in ordered),
        thing_classes=tuple(c[1] for c in ordered if c[2]),
        stuff_classes=tuple(c[1] for c in ordered if not c[2]),
        palette=[tuple(c[3]) for c in ordered])
