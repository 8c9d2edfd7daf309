"""Rendering of one synthetic street-like panoptic scene (pure numpy / OpenCV).

A scene is a sky band above a horizon, buildings and vegetation around the horizon, a road
trapezoid below it, a few void regions, and thing instances (cars, persons, signs) whose sizes are
long-tailed — from ~16 px to more than a thousand pixels — painted back to front so that near
objects occlude far ones. Large objects overflow the image border; some persons form crowd
regions. Each class has its own colour family and texture, so the task is learnable.

The renderer works on a ``uint16`` *segment index* canvas (0 = void, ``k`` = ``segments[k-1]``)
and a shading canvas for object details; colours are applied once at the end through look-up
tables, which keeps a 2-megapixel scene at a few tens of milliseconds.

How many things a scene holds and how their sizes are distributed is a :class:`SceneProfile`;
:data:`PROFILES` names them:

- ``default``: 8-24 things per scene, size ``16 px * exp(E)`` with ``E ~ Exp(1.15)`` (median
  ~35 px), capped at 1.6 image heights;
- ``large-objects``: 12-32 things per scene and a heavier tail, ``E ~ Exp(1.4)`` (median ~42 px),
  capped at 1.2 image heights, so about twice as many instances per image are larger than a
  256 px training crop at s0 = 512 (a box side > 512 px at 1024x2048: ~1.8 instead of ~0.85 per
  image at seed 0), at the price of more occlusion (things cover ~1/3 of the pixels instead of
  ~1/5). Its default split sizes (200 train, 150 val images) put ~85 and ~20 val instances in the
  top area-percentile buckets of the evaluation (95-99, 99-100), against ~24 and ~6 by default.
"""
from dataclasses import dataclass
from typing import Dict, List, Tuple

import cv2
import numpy as np

from mmpanoptic_cabb.datasets.categories.synthetic import CATEGORY_BY_NAME

# Base appearance (RGB) of each class; instances jitter around it.
BASE_COLOURS = {
    'sky': (135, 185, 235),
    'road': (110, 95, 120),
    'vegetation': (60, 135, 45),
    'building': (150, 140, 130),
    'car': (30, 60, 200),
    'person': (210, 40, 50),
    'sign': (245, 215, 20),
}
COLOUR_JITTER = {'car': 40, 'person': 30, 'sign': 12}

# Shading canvas values -> multiplicative factor on the colour (3 = paint white).
SHADE_NEUTRAL, SHADE_DARK, SHADE_LIGHT, SHADE_WHITE = 0, 1, 2, 3
SHADE_FACTORS = np.array([1.0, 0.3, 1.45, 1.0], dtype=np.float32)

THING_PROBS = (('car', 0.45), ('person', 0.35), ('sign', 0.20))


@dataclass(frozen=True)
class SceneProfile:
    """How many thing instances a scene holds and how large they are.

    Attributes:
        num_things (tuple[int, int]): Things per scene are drawn from
            ``[low, high)`` (before occlusion; a crowd comes on top).
        size_log_scale (float): Scale of the exponential of the log-size:
            size (square root of the box area) ``= min_size * exp(E)``,
            ``E ~ Exp(size_log_scale)``; larger means a heavier tail.
        min_size (float): Smallest thing size in pixels.
        max_size (float): Largest thing size, in image heights.
        crowd_prob (float): Probability that a scene holds a crowd region.
        num_train (int): Default number of training images of the profile.
        num_val (int): Default number of validation images of the profile.
    """
    num_things: Tuple[int, int] = (8, 25)
    size_log_scale: float = 1.15
    min_size: float = 16.0
    max_size: float = 1.6
    crowd_prob: float = 0.35
    num_train: int = 200
    num_val: int = 50


#: The named scene profiles; ``default`` is the dataset of the README demo.
PROFILES: Dict[str, SceneProfile] = {
    'default': SceneProfile(),
    'large-objects': SceneProfile(num_things=(12, 33), size_log_scale=1.4,
                                  max_size=1.2, num_val=150),
}


def get_profile(profile) -> SceneProfile:
    """The :class:`SceneProfile` named ``profile`` (or ``profile`` itself).

    Args:
        profile (str | SceneProfile): A key of :data:`PROFILES` or a profile.

    Returns:
        SceneProfile: The profile.
    """
    if isinstance(profile, SceneProfile):
        return profile
    if profile not in PROFILES:
        raise ValueError(f'unknown synthetic scene profile {profile!r}; '
                         f'expected one of {sorted(PROFILES)}')
    return PROFILES[profile]


@dataclass
class Segment:
    """One segment of a rendered scene.

    Attributes:
        category_id (int): Category id (see ``categories.py``).
        iscrowd (int): 1 for a crowd region, else 0.
    """
    category_id: int
    iscrowd: int = 0


class _Canvas:
    """Segment-index and shading canvases plus the list of segments drawn on them."""

    def __init__(self, height: int, width: int):
        self.seg = np.zeros((height, width), dtype=np.uint16)
        self.shade = np.zeros((height, width), dtype=np.uint8)
        self.segments: List[Segment] = []
        self.colours: List[Tuple[float, float, float]] = []

    def new_segment(self, name: str, colour: Tuple[float, float, float],
                    iscrowd: int = 0) -> int:
        """Register a segment and return its index on the canvas."""
        self.segments.append(
            Segment(CATEGORY_BY_NAME[name]['id'], iscrowd=iscrowd))
        self.colours.append(colour)
        return len(self.segments)

    def fill_poly(self, pts: np.ndarray, index: int) -> None:
        """Paint a polygon with a segment index (and neutral shading)."""
        pts = [np.round(pts).astype(np.int32)]
        cv2.fillPoly(self.seg, pts, color=int(index))
        cv2.fillPoly(self.shade, pts, color=SHADE_NEUTRAL)

    def fill_ellipse(self, centre, axes, index: int) -> None:
        """Paint a filled axis-aligned ellipse with a segment index."""
        c = (int(round(centre[0])), int(round(centre[1])))
        a = (max(1, int(round(axes[0]))), max(1, int(round(axes[1]))))
        cv2.ellipse(self.seg, c, a, 0, 0, 360, color=int(index), thickness=-1)
        cv2.ellipse(self.shade, c, a, 0, 0, 360, color=SHADE_NEUTRAL,
                    thickness=-1)

    def shade_poly(self, pts: np.ndarray, value: int, index: int) -> None:
        """Draw a detail (dark / light / white) inside segment ``index`` only."""
        self._shade(np.round(pts).astype(np.int32), value, index)

    def shade_ellipse(self, centre, axes, value: int, index: int) -> None:
        """Draw an elliptical detail inside segment ``index`` only."""
        pts = cv2.ellipse2Poly((int(round(centre[0])), int(round(centre[1]))),
                               (max(1, int(round(axes[0]))),
                                max(1, int(round(axes[1])))), 0, 0, 360, 10)
        self._shade(pts, value, index)

    def _shade(self, pts: np.ndarray, value: int, index: int) -> None:
        h, w = self.seg.shape
        x0, y0 = np.maximum(pts.min(0), 0)
        x1, y1 = np.minimum(pts.max(0) + 1, (w, h))
        if x1 <= x0 or y1 <= y0:
            return
        patch = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(patch, [pts - (x0, y0)], color=1)
        inside = (patch == 1) & (self.seg[y0:y1, x0:x1] == index)
        self.shade[y0:y1, x0:x1][inside] = value


def _jittered(rng: np.random.Generator, name: str) -> Tuple[float, ...]:
    base = np.asarray(BASE_COLOURS[name], dtype=np.float32)
    jitter = COLOUR_JITTER.get(name, 8)
    return tuple(np.clip(base + rng.uniform(-jitter, jitter, 3), 0, 255))


def _rect(x0, y0, x1, y1) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)


def _draw_stuff(canvas: _Canvas, rng: np.random.Generator, horizon: float
                ) -> None:
    """Sky, vegetation, buildings, road and void regions."""
    h, w = canvas.seg.shape
    sky = canvas.new_segment('sky', _jittered(rng, 'sky'))
    veg = canvas.new_segment('vegetation', _jittered(rng, 'vegetation'))
    bld = canvas.new_segment('building', _jittered(rng, 'building'))
    road = canvas.new_segment('road', _jittered(rng, 'road'))
    canvas.seg[:int(horizon)] = sky
    canvas.seg[int(horizon):] = veg
    # Buildings: blocks standing on the horizon.
    x = rng.uniform(-0.1, 0.1) * w
    while x < w:
        bw = rng.uniform(0.08, 0.3) * w
        if rng.random() < 0.75:
            top = rng.uniform(0.05, 0.8) * horizon
            base = horizon + rng.uniform(0.0, 0.08) * h
            canvas.fill_poly(_rect(x, top, x + bw, base), bld)
        x += bw + rng.uniform(0.0, 0.05) * w
    # Trees and bushes: ellipses around the horizon.
    for _ in range(rng.integers(2, 7)):
        cx, cy = rng.uniform(0, w), horizon + rng.uniform(-0.15, 0.05) * h
        canvas.fill_ellipse((cx, cy), (rng.uniform(0.03, 0.12) * w,
                                       rng.uniform(0.04, 0.15) * h), veg)
    # Road: a trapezoid from the bottom edge to a vanishing point.
    vx = rng.uniform(0.35, 0.65) * w
    half_top = rng.uniform(0.01, 0.05) * w
    spread = rng.uniform(0.0, 0.3) * w
    canvas.fill_poly(
        np.array([[-spread, h], [w + spread, h], [vx + half_top, horizon],
                  [vx - half_top, horizon]], np.float32), road)
    # Lane markings are a detail of the road.
    for t0 in np.arange(0.1, 1.0, 0.18):
        t1 = t0 + 0.08
        y0, y1 = horizon + t0 * (h - horizon), horizon + t1 * (h - horizon)
        ww0, ww1 = 2 + 10 * t0, 2 + 10 * t1
        canvas.shade_poly(
            np.array([[vx - ww0, y0], [vx + ww0, y0], [vx + ww1, y1],
                      [vx - ww1, y1]], np.float32), SHADE_WHITE, road)
    # Void: a few unlabelled blobs and, sometimes, an ego-vehicle band.
    for _ in range(rng.integers(1, 4)):
        cx, cy = rng.uniform(0, w), rng.uniform(horizon, h)
        canvas.fill_ellipse((cx, cy), (rng.uniform(8, 60), rng.uniform(8, 40)),
                            0)
    if rng.random() < 0.3:
        band = rng.uniform(0.02, 0.06) * h
        canvas.seg[int(h - band):] = 0


def _draw_car(canvas: _Canvas, idx: int, cx: float, bottom: float,
              size: float) -> None:
    bw, bh = size * 1.5, size / 1.5
    x0, x1 = cx - bw / 2, cx + bw / 2
    body_top = bottom - 0.6 * bh
    canvas.fill_poly(_rect(x0, body_top, x1, bottom - 0.1 * bh), idx)
    cabin = np.array([[x0 + 0.2 * bw, body_top], [x1 - 0.15 * bw, body_top],
                      [x1 - 0.3 * bw, bottom - bh], [x0 + 0.3 * bw,
                                                    bottom - bh]], np.float32)
    canvas.fill_poly(cabin, idx)
    for wx in (x0 + 0.22 * bw, x1 - 0.22 * bw):
        canvas.fill_ellipse((wx, bottom - 0.12 * bh), (0.11 * bw, 0.12 * bh),
                            idx)
        canvas.shade_ellipse((wx, bottom - 0.12 * bh), (0.1 * bw, 0.11 * bh),
                             SHADE_DARK, idx)
    shrink = 0.12 * (cabin - cabin.mean(0))
    canvas.shade_poly(cabin - shrink, SHADE_DARK, idx)


def _draw_person(canvas: _Canvas, idx: int, cx: float, bottom: float,
                 size: float) -> None:
    pw, ph = size * 0.55, size * 1.8
    canvas.fill_ellipse((cx, bottom - 0.42 * ph), (pw / 2, 0.42 * ph), idx)
    head_c, head_r = (cx, bottom - 0.88 * ph), 0.12 * ph
    canvas.fill_ellipse(head_c, (head_r * 0.8, head_r), idx)
    canvas.shade_ellipse(head_c, (head_r * 0.7, head_r * 0.9), SHADE_LIGHT,
                         idx)
    canvas.shade_poly(_rect(cx - pw / 2, bottom - 0.35 * ph, cx + pw / 2,
                            bottom), SHADE_DARK, idx)


def _draw_sign(canvas: _Canvas, idx: int, cx: float, cy: float, size: float,
               diamond: bool) -> None:
    r = size / 2
    if diamond:
        pts = np.array([[cx, cy - r], [cx + r, cy], [cx, cy + r], [cx - r, cy]],
                       np.float32)
        canvas.fill_poly(pts, idx)
        centre = np.array([cx, cy], np.float32)
        canvas.shade_poly(centre + 0.55 * (pts - centre), SHADE_WHITE, idx)
    else:
        canvas.fill_ellipse((cx, cy), (r, r), idx)
        canvas.shade_ellipse((cx, cy), (0.6 * r, 0.6 * r), SHADE_WHITE, idx)


def _thing_size(rng: np.random.Generator, max_size: float,
                min_size: float = 16.0, log_scale: float = 1.15) -> float:
    """Long-tailed object size (square root of the box area), >= ``min_size``."""
    return float(min(min_size * np.exp(rng.exponential(log_scale)),
                     max_size))


def _draw_things(canvas: _Canvas, rng: np.random.Generator,
                 horizon: float, profile: SceneProfile) -> None:
    """Thing instances painted back to front, plus an optional crowd."""
    h, w = canvas.seg.shape
    names = [n for n, _ in THING_PROBS]
    probs = np.array([p for _, p in THING_PROBS])
    items = []
    for _ in range(rng.integers(*profile.num_things)):
        name = names[rng.choice(len(names), p=probs)]
        size = _thing_size(rng, profile.max_size * h, profile.min_size,
                           profile.size_log_scale)
        cx = rng.uniform(-0.05, 1.05) * w
        # Bigger objects stand nearer to the camera (lower in the image).
        near = min(1.0, size / (0.8 * h))
        bottom = horizon + (h - horizon) * np.clip(
            near + rng.uniform(-0.15, 0.3), 0.02, 1.25)
        items.append((bottom, name, size, cx))
    crowd = None
    if rng.random() < profile.crowd_prob:
        bottom = horizon + rng.uniform(0.1, 0.5) * (h - horizon)
        crowd = (bottom, 'crowd', rng.uniform(14, 40), rng.uniform(0.1, 0.9) * w)
        items.append(crowd)
    for bottom, name, size, cx in sorted(items, key=lambda t: t[0]):
        if name == 'crowd':
            idx = canvas.new_segment('person', _jittered(rng, 'person'),
                                     iscrowd=1)
            for _ in range(rng.integers(6, 14)):
                _draw_person(canvas, idx, cx + rng.uniform(-4, 4) * size,
                             bottom + rng.uniform(-0.5, 0.5) * size, size)
            continue
        idx = canvas.new_segment(name, _jittered(rng, name))
        if name == 'car':
            _draw_car(canvas, idx, cx, bottom, size)
        elif name == 'person':
            _draw_person(canvas, idx, cx, bottom, size)
        else:
            cy = bottom - size * rng.uniform(1.0, 3.0)
            _draw_sign(canvas, idx, cx, cy, size, diamond=rng.random() < 0.5)


def _colourise(canvas: _Canvas, rng: np.random.Generator) -> np.ndarray:
    """Turn the canvases into an RGB image with per-class textures.

    All texture effects are folded into one (H, W) gain map and one offset map, so only the final
    colour look-up touches (H, W, 3) arrays.
    """
    h, w = canvas.seg.shape
    lut = np.zeros((len(canvas.segments) + 1, 3), np.float32)
    lut[0] = (25, 25, 25)
    lut[1:] = np.asarray(canvas.colours, np.float32)
    cat_of = np.array([0] + [s.category_id for s in canvas.segments],
                      np.uint16)
    cat_map = np.take(cat_of, canvas.seg)
    # Low-frequency illumination, cheap via upsampling.
    coarse = rng.standard_normal((h // 16 + 1, w // 16 + 1), np.float32)
    gain = 1.0 + 0.07 * cv2.resize(coarse, (w, h),
                                   interpolation=cv2.INTER_LINEAR)
    # Sky brightens towards the horizon.
    rows = np.linspace(0.8, 1.15, h, dtype=np.float32)[:, None]
    gain *= np.where(cat_map == CATEGORY_BY_NAME['sky']['id'], rows,
                     np.float32(1.0))
    # Buildings get a grid of dark windows.
    grid = (((np.arange(h) // 18) % 3 == 0)[:, None]
            & ((np.arange(w) // 14) % 3 == 0)[None, :])
    gain *= np.where(grid & (cat_map == CATEGORY_BY_NAME['building']['id']),
                     np.float32(0.45), np.float32(1.0))
    # Vegetation gets a strong leafy noise.
    fine = rng.standard_normal((h // 3 + 1, w // 3 + 1), np.float32)
    fine = cv2.resize(fine, (w, h), interpolation=cv2.INTER_NEAREST)
    gain *= np.where(cat_map == CATEGORY_BY_NAME['vegetation']['id'],
                     1.0 + 0.25 * fine, np.float32(1.0))
    gain *= np.take(SHADE_FACTORS, canvas.shade)
    white = canvas.shade == SHADE_WHITE
    gain[white] = 0.0
    grain = rng.standard_normal((h // 2 + 1, w // 2 + 1), np.float32) * 4.0
    offset = cv2.resize(grain, (w, h), interpolation=cv2.INTER_NEAREST)
    offset[white] += 235.0
    img = np.take(lut, canvas.seg, axis=0)
    img *= gain[..., None]
    img += offset[..., None]
    np.clip(img, 0, 255, out=img)
    return img.astype(np.uint8)


def render_scene(rng: np.random.Generator, height: int, width: int,
                 profile='default'
                 ) -> Tuple[np.ndarray, np.ndarray, List[Segment]]:
    """Render one synthetic panoptic scene.

    Args:
        rng (np.random.Generator): Source of randomness (the scene is a pure function of it
            and the profile).
        height (int): Image height in pixels.
        width (int): Image width in pixels.
        profile (str | SceneProfile): Thing counts and sizes, a key of :data:`PROFILES` or a
            :class:`SceneProfile`. Defaults to ``'default'``.

    Returns:
        tuple: ``(image, seg_index, segments)`` — the RGB image (H, W, 3) uint8, the segment
        index map (H, W) uint16 (0 = void, ``k`` = ``segments[k-1]``) and the segment list.
        Segments may have zero visible pixels (fully occluded); callers drop them.
    """
    profile = get_profile(profile)
    canvas = _Canvas(height, width)
    horizon = rng.uniform(0.3, 0.5) * height
    _draw_stuff(canvas, rng, horizon)
    _draw_things(canvas, rng, horizon, profile)
    image = _colourise(canvas, rng)
    return image, canvas.seg, canvas.segments
