"""Writing the synthetic panoptic dataset in the COCO panoptic format.

Layout under ``out_dir``::

    images/{train,val}/{split}_{index:06d}.jpg        RGB images
    annotations/panoptic_{train,val}/....png           RGB-encoded segment ids (id = R + 256 G + 256^2 B)
    annotations/panoptic_{train,val}.json              images, annotations (segments_info), categories

Every image is a pure function of ``(seed, profile, split, index)``, so the dataset is
reproducible bit for bit and images can be rendered in parallel in any order. The scene profile
(:data:`~.scene.PROFILES`: ``default``, ``large-objects``) sets how many things a scene holds and
how large they are; a non-default profile is recorded in the JSON's ``info.profile``.
"""
import json
import os
import os.path as osp
from multiprocessing import get_context
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np

from mmpanoptic_cabb.datasets.categories.synthetic import SYNTHETIC_CATEGORIES
from mmpanoptic_cabb.structures.panoptic_png import (MAX_PANOPTIC_ID,
                                                     write_panoptic_png)
from mmpanoptic_cabb.structures.panoptic_segments import segment_stats
from mmpanoptic_cabb.utils.progress import track
from .scene import get_profile, render_scene

SPLIT_CODES = {'train': 0, 'val': 1, 'test': 2}


def make_sample(seed: int, split: str, index: int, height: int, width: int,
                profile: str = 'default'
                ) -> Tuple[np.ndarray, np.ndarray, List[Dict]]:
    """Render sample ``index`` of ``split``.

    Args:
        seed (int): Dataset seed.
        split (str): ``train``, ``val`` or ``test``.
        index (int): Image index within the split.
        height (int): Image height.
        width (int): Image width.
        profile (str): Scene profile, a key of :data:`~.scene.PROFILES`.
            Defaults to ``'default'``.

    Returns:
        tuple: RGB image, segment-id map (int32, 0 = void) and its ``segments_info``.
    """
    rng = np.random.default_rng([seed, SPLIT_CODES[split], index])
    image, seg_index, segments = render_scene(rng, height, width, profile)
    areas, boxes = segment_stats(seg_index, len(segments))
    ids = rng.choice(MAX_PANOPTIC_ID, size=len(segments), replace=False) + 1
    id_lut = np.zeros(len(segments) + 1, np.int32)
    segments_info = []
    for k, seg in enumerate(segments, start=1):
        if areas[k] == 0:
            continue  # fully occluded: not part of the annotation
        id_lut[k] = ids[k - 1]
        segments_info.append(
            dict(id=int(ids[k - 1]), category_id=int(seg.category_id),
                 area=int(areas[k]), bbox=boxes[k - 1],
                 iscrowd=int(seg.iscrowd)))
    return image, np.take(id_lut, seg_index), segments_info


def _write_one(args: Tuple) -> Dict:
    out_dir, seed, split, index, height, width, profile = args
    image, ids, segments_info = make_sample(seed, split, index, height, width,
                                            profile)
    stem = f'{split}_{index:06d}'
    cv2.imwrite(osp.join(out_dir, 'images', split, stem + '.jpg'),
                image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 92])
    write_panoptic_png(
        osp.join(out_dir, 'annotations', f'panoptic_{split}', stem + '.png'),
        ids,
        compression=1)
    return dict(
        image=dict(id=index, file_name=stem + '.jpg', height=height,
                   width=width),
        annotation=dict(image_id=index, file_name=stem + '.png',
                        segments_info=segments_info))


def write_synthetic_dataset(out_dir: str,
                            seed: int = 0,
                            splits: Sequence[Tuple[str, int]] = (('train', 200),
                                                                 ('val', 50)),
                            height: int = 1024,
                            width: int = 2048,
                            nproc: int = 0,
                            profile: str = 'default') -> Dict[str, str]:
    """Generate the synthetic panoptic dataset.

    Args:
        out_dir (str): Output root (created if needed).
        seed (int): Dataset seed; the output is a pure function of it, the profile and the
            other arguments.
        splits (Sequence[tuple]): ``(split name, number of images)`` pairs; names among
            ``train``, ``val``, ``test``.
        height (int): Image height.
        width (int): Image width.
        nproc (int): Worker processes; 0 means all cores.
        profile (str): Scene profile, a key of :data:`~.scene.PROFILES`
            (``default``: the README demo's dataset; ``large-objects``: more
            and larger things). Defaults to ``'default'``.

    Returns:
        dict: Split name -> path of its annotation JSON.
    """
    if height < 64 or width < 64:
        raise ValueError(f'image size {height}x{width} is too small (>= 64)')
    get_profile(profile)  # fail early on an unknown name
    nproc = nproc or os.cpu_count() or 1
    written = {}
    for split, num in splits:
        if split not in SPLIT_CODES:
            raise ValueError(f'unknown split {split!r}; expected one of '
                             f'{sorted(SPLIT_CODES)}')
        os.makedirs(osp.join(out_dir, 'images', split), exist_ok=True)
        os.makedirs(osp.join(out_dir, 'annotations', f'panoptic_{split}'),
                    exist_ok=True)
        jobs = [(out_dir, seed, split, i, height, width, profile)
                for i in range(num)]
        description = f'synthetic {split}: {num} images'
        if nproc > 1 and num > 1:
            with get_context('spawn').Pool(min(nproc, num)) as pool:
                records = list(track(pool.imap(_write_one, jobs, chunksize=4),
                                     total=num, description=description))
        else:
            records = [_write_one(j) for j in track(jobs,
                                                    description=description)]
        info = dict(description='mmpanoptic_cabb synthetic panoptic dataset',
                    seed=seed, split=split)
        if profile != 'default':
            info['profile'] = profile
        coco = dict(
            info=info,
            licenses=[],
            images=[r['image'] for r in records],
            annotations=[r['annotation'] for r in records],
            categories=[
                dict(id=c['id'], name=c['name'], isthing=c['isthing'],
                     color=list(c['color']), supercategory=c['name'])
                for c in SYNTHETIC_CATEGORIES
            ])
        json_path = osp.join(out_dir, 'annotations', f'panoptic_{split}.json')
        tmp_path = json_path + '.tmp'
        with open(tmp_path, 'w', encoding='utf-8') as f:
            json.dump(coco, f)
        os.replace(tmp_path, json_path)
        written[split] = json_path
    return written
