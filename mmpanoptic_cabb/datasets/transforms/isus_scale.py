"""Pure scale maths of Instance Scale-Uniform Sampling (ISUS, Sec. 2.1).

The network assigns a box to a feature pyramid level with the FPN heuristic
implemented by mmdet's ``SingleRoIExtractor.map_roi_levels``::

    scale = sqrt(w * h)
    level = floor(log2(scale / finest_scale + 1e-6)), clamped to [0, L - 1]

so level ``l`` receives the scales in ``[finest_scale * 2**l,
finest_scale * 2**(l + 1))``, except that level 0 also receives everything
smaller and level ``L - 1`` everything larger. ISUS draws a level and picks
the scale factor ``sigma`` that moves a chosen instance into it. For the two
unbounded end levels the *nominal* range above (one octave, like every other
level) is used as the target, so every level is targeted in the same way.

Everything here works on plain numbers / numpy arrays and knows nothing of
registries, results dicts or configs.
"""
import math
from typing import Tuple, Union

import numpy as np

#: Position in a level's log2 range used by ``level_position='center'``.
CENTER_POSITION = 0.5
#: Uniform positions are drawn in ``[MARGIN, 1 - MARGIN]`` so that rounding
#: of the resized image size can never push a box across a level boundary.
UNIFORM_POSITION_MARGIN = 0.05


def box_scale(boxes: np.ndarray) -> np.ndarray:
    """Scale ``sqrt(w * h)`` of boxes, as in the level rule.

    Args:
        boxes (np.ndarray): (N, 4) boxes ``(x1, y1, x2, y2)``.

    Returns:
        np.ndarray: (N,) float64 scales (0 for degenerate boxes).
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    w = np.clip(boxes[:, 2] - boxes[:, 0], 0, None)
    h = np.clip(boxes[:, 3] - boxes[:, 1], 0, None)
    return np.sqrt(w * h)


def pyramid_level(scale: Union[float, np.ndarray], finest_scale: float,
                  num_levels: int) -> Union[int, np.ndarray]:
    """Pyramid level of a box scale under the FPN level rule.

    Mirrors ``SingleRoIExtractor.map_roi_levels`` (same ``1e-6`` guard).

    Args:
        scale (float | np.ndarray): Box scale(s) ``sqrt(w * h)`` in pixels.
        finest_scale (float): Scale threshold of level 0 (mmdet default 56).
        num_levels (int): Number of pyramid levels the RoIs are mapped to.

    Returns:
        int | np.ndarray: Level index in ``[0, num_levels - 1]``.
    """
    _check_rule(finest_scale, num_levels)
    scale_arr = np.asarray(scale, dtype=np.float64)
    with np.errstate(divide='ignore'):
        lvl = np.floor(np.log2(scale_arr / finest_scale + 1e-6))
    lvl = np.clip(lvl, 0, num_levels - 1).astype(np.int64)
    return int(lvl) if lvl.ndim == 0 else lvl


def level_scale_range(level: int, finest_scale: float,
                      num_levels: int) -> Tuple[float, float]:
    """Nominal scale range ``[lo, hi)`` targeted for a level.

    Args:
        level (int): Level index in ``[0, num_levels - 1]``.
        finest_scale (float): Scale threshold of level 0.
        num_levels (int): Number of pyramid levels.

    Returns:
        tuple[float, float]: ``(finest_scale * 2**level,
        finest_scale * 2**(level + 1))``.
    """
    _check_rule(finest_scale, num_levels)
    if not 0 <= level < num_levels:
        raise ValueError(f'level must be in [0, {num_levels - 1}], '
                         f'got {level}')
    return finest_scale * 2.0**level, finest_scale * 2.0**(level + 1)


def target_scale(level: int,
                 finest_scale: float,
                 num_levels: int,
                 position: float = CENTER_POSITION) -> float:
    """Scale at a relative ``position`` of a level's range, in log space.

    Args:
        level (int): Target level.
        finest_scale (float): Scale threshold of level 0.
        num_levels (int): Number of pyramid levels.
        position (float): Position in ``(0, 1)``; 0.5 is the geometric
            middle of the level's range.

    Returns:
        float: ``finest_scale * 2**(level + position)``.
    """
    if not 0.0 < position < 1.0:
        raise ValueError(f'position must be in (0, 1), got {position}')
    lo, _ = level_scale_range(level, finest_scale, num_levels)
    return lo * 2.0**position


def isus_scale_factor(instance_scale: float,
                      level: int,
                      finest_scale: float,
                      num_levels: int,
                      clamp: Tuple[float, float] = (0.25, 4.0),
                      position: float = CENTER_POSITION) -> float:
    """Scale factor ``sigma`` that assigns an instance to ``level``.

    ``sigma = target_scale(level) / instance_scale`` clamped to ``clamp``
    (the paper's ``r_th``). Whenever the clamp does not bind,
    ``pyramid_level(instance_scale * sigma) == level``.

    Args:
        instance_scale (float): ``sqrt(w * h)`` of the instance box at the
            resolution the factor applies to (after the ``s0`` rescale).
        level (int): Target level.
        finest_scale (float): Scale threshold of level 0.
        num_levels (int): Number of pyramid levels.
        clamp (tuple[float, float]): ``(min, max)`` allowed factor.
        position (float): Position in the level's log range, see
            :func:`target_scale`.

    Returns:
        float: The clamped scale factor.
    """
    lo, hi = clamp
    if not 0 < lo <= hi:
        raise ValueError(f'invalid clamp range {clamp}')
    if not instance_scale > 0 or not math.isfinite(instance_scale):
        raise ValueError(f'instance_scale must be positive and finite, '
                         f'got {instance_scale}')
    sigma = target_scale(level, finest_scale, num_levels,
                         position) / instance_scale
    return float(min(max(sigma, lo), hi))


def _check_rule(finest_scale: float, num_levels: int) -> None:
    if not finest_scale > 0:
        raise ValueError(f'finest_scale must be positive, got {finest_scale}')
    if int(num_levels) != num_levels or num_levels < 1:
        raise ValueError(
            f'num_levels must be a positive integer, got {num_levels}')
