"""Deferred ISUS resize: the window-first path equals resizing the whole
image, then flipping and cropping it, and its cost does not grow with
sigma**2."""
import copy
import tracemalloc

import numpy as np
import pytest

from mmdet.structures.bbox import HorizontalBoxes
from mmpanoptic_cabb.datasets.transforms import (InstMapToMasks, ISUSResize,
                                                 PackPanopticInputs,
                                                 PanopticRandomFlip,
                                                 PanopticResize,
                                                 TruncationAwareRandomCrop)
from mmpanoptic_cabb.datasets.transforms.inst_map_ops import (
    boxes_from_inst_map, relabel_inst_map)
from mmpanoptic_cabb.datasets.transforms.lazy_resize import PENDING_KEY

THINGS, STUFF = (0, 1, 2), (3, 4)
LEVEL_RULE = dict(finest_scale=4, featmap_strides=(4, 8, 16, 32))
SIGMAS = (0.25, 0.6, 1.0, 1.7, 4.0)
FLIPS = (None, 'horizontal', 'vertical', 'diagonal')
#: Keys compared exactly between the two paths.
ARRAY_KEYS = ('img', 'gt_seg_map', 'gt_inst_map', 'gt_truncated',
              'gt_bboxes_labels', 'gt_ignore_flags', 'homography_matrix')
SCALAR_KEYS = ('img_shape', 'scale', 'scale_factor', 'keep_ratio',
               'isus_sigma', 'isus_level', 'sampled_instance', 'flip',
               'flip_direction')


def make_sample(seed: int, h: int, w: int, num: int = 8,
                dtype=np.uint8) -> dict:
    """Stuff bands, overlapping thing rectangles, void and an ignored
    instance; tight boxes; a class-uniform draw on a thing class."""
    rng = np.random.default_rng(seed)
    seg = np.full((h, w), STUFF[0], dtype=np.uint8)
    seg[h // 2:] = STUFF[1]
    seg[:max(1, h // 10), :max(1, w // 10)] = 255
    inst = np.zeros((h, w), dtype=np.int32)
    for k in range(num):
        bh = int(rng.integers(1, max(2, h // 2)))
        bw = int(rng.integers(1, max(2, w // 2)))
        y, x = int(rng.integers(0, h - bh + 1)), int(rng.integers(0, w - bw +
                                                                 1))
        inst[y:y + bh, x:x + bw] = k + 1
    boxes, present = boxes_from_inst_map(inst, num)
    inst = relabel_inst_map(inst, present)
    labels = rng.choice(THINGS, num)[present].astype(np.int64)
    for k, label in enumerate(labels):
        seg[inst == k + 1] = label
    n = len(labels)
    ignore = np.zeros(n, dtype=bool)
    ignore[-1:] = n > 1
    if dtype == np.uint8:
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    else:
        img = (rng.random((h, w, 3)) * 255).astype(dtype)
    return dict(
        img=img,
        img_shape=(h, w),
        ori_shape=(h, w),
        gt_bboxes=HorizontalBoxes(boxes[present]),
        gt_bboxes_labels=labels,
        gt_ignore_flags=ignore,
        gt_seg_map=seg,
        gt_inst_map=inst,
        sampled_class=int(labels[0]))


def pipeline(lazy: bool, sigma: float, isus: bool, flips, crop):
    """ISUSResize with sigma forced (both ranges), flips, crop, masks."""
    steps = [
        ISUSResize(
            stuff_range=(sigma, sigma),
            thing_range=(sigma, sigma),
            isus=isus,
            level_rule=LEVEL_RULE,
            lazy=lazy)
    ]
    steps += [PanopticRandomFlip(prob=1.0, direction=d) for d in flips]
    if crop is not None:
        steps.append(TruncationAwareRandomCrop(crop_size=crop))
    steps.append(InstMapToMasks(keep_inst_map=True))
    return steps


def run(steps, results: dict, seed: int) -> dict:
    np.random.seed(seed)
    results = copy.deepcopy(results)
    for step in steps:
        results = step(results)
    return results


def assert_same(eager: dict, lazy: dict, exact_img: bool = True) -> None:
    assert PENDING_KEY not in lazy
    for key in ARRAY_KEYS:
        if key == 'img' and not exact_img:
            np.testing.assert_allclose(lazy[key], eager[key], atol=1e-2)
            continue
        assert (key in eager) == (key in lazy), key
        if key not in eager:
            continue
        np.testing.assert_array_equal(lazy[key], eager[key], err_msg=key)
    for key in SCALAR_KEYS:
        assert lazy.get(key) == eager.get(key), key
    np.testing.assert_array_equal(lazy['gt_bboxes'].numpy(),
                                  eager['gt_bboxes'].numpy())
    np.testing.assert_array_equal(lazy['gt_masks'].masks,
                                  eager['gt_masks'].masks)


CASES = [(sigma, isus, flip) for sigma in SIGMAS for isus in (False, True)
         for flip in FLIPS]


@pytest.mark.parametrize('sigma,isus,flip', CASES)
def test_window_first_equals_resize_then_crop(sigma, isus, flip):
    """Pixel for pixel (maps everywhere, the uint8 image too), boxes and
    flags exactly; windows inside, touching one border, or spanning an
    axis (crop as wide as the resized image, or wider)."""
    flips = () if flip is None else (flip, )
    for trial in range(6):
        seed = 1000 * SIGMAS.index(sigma) + 10 * trial + isus
        rng = np.random.default_rng(seed)
        h, w = (int(v) for v in rng.integers(6, 48, 2))
        sample = make_sample(seed, h, w)
        if trial % 2:  # the ISUS instance draw (row 0, a thing)
            sample['sampled_instance'] = 0
        big_h, big_w = (max(1, int(round(s * sigma))) for s in (h, w))
        crop = [(int(rng.integers(2, 40)), int(rng.integers(2, 40))),
                (big_w, int(rng.integers(2, 40))),
                (int(rng.integers(2, 40)), big_h),
                (big_w + 5, big_h + 5)][trial % 4]
        eager = run(pipeline(False, sigma, isus, flips, crop), sample, seed)
        lazy = run(pipeline(True, sigma, isus, flips, crop), sample, seed)
        assert_same(eager, lazy)


def test_double_flips_compose():
    sample = make_sample(3, 30, 41)
    for flips in (('horizontal', 'vertical'), ('horizontal', 'horizontal'),
                  ('diagonal', 'vertical')):
        eager = run(pipeline(False, 2.3, False, flips, (17, 23)), sample, 5)
        lazy = run(pipeline(True, 2.3, False, flips, (17, 23)), sample, 5)
        assert_same(eager, lazy)


def test_crop_on_stuff_and_without_draw():
    sample = make_sample(4, 33, 27)
    for label in (STUFF[1], -1, 99):  # stuff, no draw, absent class
        sample['sampled_class'] = label
        for seed in range(5):
            steps = lambda lazy: pipeline(lazy, 1.9, True, ('vertical', ),
                                          (15, 12))
            assert_same(
                run(steps(False), sample, seed), run(steps(True), sample,
                                                     seed))


def test_float32_image_agrees_to_rounding():
    sample = make_sample(5, 29, 37, dtype=np.float32)
    eager = run(pipeline(False, 3.1, True, ('horizontal', ), (20, 30)),
                sample, 1)
    lazy = run(pipeline(True, 3.1, True, ('horizontal', ), (20, 30)), sample,
               1)
    assert lazy['img'].dtype == np.float32
    assert_same(eager, lazy, exact_img=False)


def test_pending_resize_without_crop_is_applied_whole():
    """FULL pipelines: no crop; InstMapToMasks carries the resize out."""
    sample = make_sample(6, 25, 19)
    eager = run(pipeline(False, 1.7, False, ('horizontal', ), None), sample,
                2)
    lazy = run(pipeline(True, 1.7, False, ('horizontal', ), None), sample, 2)
    assert lazy['img'].shape[:2] == (43, 32)
    assert_same(eager, lazy)
    # the packing carries it out too, when nothing else did
    steps = pipeline(True, 1.7, False, (), None)[:-1] + [PackPanopticInputs()]
    packed = run(steps, sample, 2)
    assert tuple(packed['inputs'].shape[1:]) == (43, 32)


def test_resizes_after_a_deferred_one_carry_it_out_first():
    sample = make_sample(9, 23, 31)
    crop = TruncationAwareRandomCrop(crop_size=(19, 14))
    for second in (ISUSResize(stuff_range=(0.7, 0.7), isus=False),
                   ISUSResize(stuff_range=(0.7, 0.7), isus=False, lazy=True),
                   PanopticResize(scale_factor=0.7, keep_ratio=True)):
        steps = lambda lazy: pipeline(lazy, 2.2, False, ('vertical', ),
                                      None)[:-1] + [second, crop,
                                                    InstMapToMasks(True)]
        assert_same(run(steps(False), sample, 3), run(steps(True), sample, 3))


def test_resize_stays_eager_when_it_cannot_be_deferred():
    sample = make_sample(7, 20, 20)
    for kwargs in (dict(interpolation='bicubic'), dict(interpolation='area')):
        out = run([ISUSResize(stuff_range=(2, 2), isus=False, lazy=True,
                              **kwargs)], sample, 0)
        assert PENDING_KEY not in out and out['img'].shape[:2] == (40, 40)
    out = run([ISUSResize(stuff_range=(2, 2), isus=False, lazy=True)], sample,
              0)
    assert out[PENDING_KEY]['scale'] == (40, 40)
    assert out['img'].shape[:2] == (20, 20) and out['img_shape'] == (40, 40)
    assert 'lazy=True' in repr(ISUSResize(lazy=True))


def _peak_bytes(steps, sample) -> int:
    tracemalloc.start()
    try:
        run(steps, sample, 0)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_window_first_cost_does_not_grow_with_sigma_squared():
    """Peak memory of one sample (numpy allocations): the eager path grows
    with the resized image, the window-first path stays with the source."""
    sample = make_sample(8, 300, 400, num=12)
    crop = (64, 64)
    peaks = {(lazy, sigma): _peak_bytes(
        pipeline(lazy, sigma, True, ('horizontal', ), crop), sample)
             for lazy in (False, True) for sigma in (1.0, 4.0)}
    source = sample['img'].nbytes + sample['gt_inst_map'].nbytes
    assert peaks[False, 4.0] > 10 * source  # 16x the pixels, resized
    assert peaks[True, 4.0] < 2.5 * source
    assert peaks[True, 4.0] < 1.5 * peaks[True, 1.0] + 64 * 64 * 16
