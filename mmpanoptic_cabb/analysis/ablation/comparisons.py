"""Which differences between the study's variants exceed the spread over
seeds.

The study's rule: a difference between two variants is **real** only when
their seed ranges ``[min, max]`` do not overlap; ranges that touch overlap.
With two or three seeds per variant this is a weak test, and the range is
the honest measure of spread at that count (the mean ± half the range of
the table is the range itself only for two seeds: with three, the mean need
not be the range's midpoint, so the table's cells are not the ranges).

The functions take the runs' records (``metrics.json`` contents, see
:func:`.results.load_records`) and metric keys with their titles, so that
the report decides what is compared.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple

#: The issue's headline comparisons: (variant A, variant B, metric key).
#: ``LARGEST_BOX`` stands for the box AP of the largest area bucket.
LARGEST_BOX = 'bbox_mAP_<largest>'
HEADLINE = (
    ('CROP', 'CROP+CABB', LARGEST_BOX),
    ('CROP', 'CROP+CABB+ISUS', 'PQ'),
    ('CROP', 'CROP+CABB+ISUS', 'PC_th'),
)

#: ``(mean, min, max, count)`` of one metric over one variant's seeds.
SeedRange = Tuple[float, float, float, int]


def seed_range(values: Sequence[Optional[float]]) -> Optional[SeedRange]:
    """Mean, minimum and maximum of the finite values.

    Args:
        values (Sequence[float | None]): One value per seed; None / NaN are
            left out.

    Returns:
        tuple | None: ``(mean, min, max, count)``; None without finite
        values.
    """
    finite = [float(v) for v in values
              if v is not None and math.isfinite(float(v))]
    if not finite:
        return None
    return sum(finite) / len(finite), min(finite), max(finite), len(finite)


def compare_ranges(a: SeedRange, b: SeedRange) -> int:
    """The study's rule on two seed ranges.

    Args:
        a (tuple): ``(mean, min, max, count)`` of variant A.
        b (tuple): The same for variant B.

    Returns:
        int: ``+1`` when every seed of B is above every seed of A, ``-1``
        when every seed of B is below, ``0`` when the ranges overlap or
        touch (not real).
    """
    if b[1] > a[2]:
        return 1
    if b[2] < a[1]:
        return -1
    return 0


def has_spread(stat: SeedRange) -> bool:
    """Whether a seed range can be judged: it needs at least two seeds.

    Args:
        stat (tuple): ``(mean, min, max, count)``.

    Returns:
        bool: True with two seeds or more.
    """
    return stat[3] >= 2


def variant_ranges(records: Sequence[dict], variant: str,
                   keys: Sequence[str]) -> Dict[str, SeedRange]:
    """Seed ranges of one variant's metrics.

    Args:
        records (Sequence[dict]): ``metrics.json`` contents.
        variant (str): The variant.
        keys (Sequence[str]): Metric keys.

    Returns:
        dict: Key -> seed range; keys without values are left out.
    """
    runs = [r for r in records if r['variant'] == variant]
    out = {}
    for key in keys:
        stat = seed_range([r['metrics'].get(key) for r in runs])
        if stat is not None:
            out[key] = stat
    return out


def format_range(stat: SeedRange, digits: int = 1) -> str:
    """``mean (min–max), n=count``."""
    mean, low, high, count = stat
    return (f'{mean:.{digits}f} ({low:.{digits}f}–{high:.{digits}f}), '
            f'n={count}')


def render_comparisons(records: Sequence[dict], variants: Sequence[str],
                       metrics: Sequence[Tuple[str, str]],
                       largest_box: Optional[str] = None,
                       baseline: str = 'CROP',
                       headline: Sequence[Tuple[str, str, str]] = HEADLINE,
                       digits: int = 1) -> List[str]:
    """The markdown section on differences beyond the spread.

    Args:
        records (Sequence[dict]): ``metrics.json`` contents.
        variants (Sequence[str]): Variants in table order.
        metrics (Sequence[tuple[str, str]]): ``(key, title)`` of every
            metric compared against the baseline.
        largest_box (str, optional): The key that :data:`LARGEST_BOX`
            stands for; headline rows on it are left out when None.
        baseline (str): The variant every other one is compared with.
        headline (Sequence[tuple[str, str, str]]): ``(A, B, key)`` rows of
            the headline table.
        digits (int): Decimals.

    Returns:
        list[str]: Markdown lines; empty when the baseline has no runs.
    """
    titles = dict(metrics)
    present = list(dict.fromkeys(r['variant'] for r in records))
    if baseline not in present:
        return []
    verdict = {1: 'yes, B higher', -1: 'yes, B lower',
               0: 'no (the ranges overlap)'}
    one_seed = 'n/a (one seed has no spread)'
    lines = ['## Differences beyond the spread', '']
    lines.append(
        'A difference is called real only when the two variants\' seed '
        'ranges, min–max over the seeds, do not overlap (touching counts as '
        'overlap); a variant with one seed has no spread and is not '
        'judged. Cells: mean (min–max), n = seeds.')
    lines.append('')
    keys = [key for key, _ in metrics]
    headline = [(a, b, largest_box if key == LARGEST_BOX else key)
                for a, b, key in headline]
    wanted = list(dict.fromkeys(
        keys + [key for _, _, key in headline if key is not None]))
    ranges = {name: variant_ranges(records, name, wanted)
              for name in present}
    rows = []
    for a, b, key in headline:
        if key is None or a not in present or b not in present:
            continue
        ra, rb = ranges[a].get(key), ranges[b].get(key)
        if ra is None or rb is None:
            continue
        real = (verdict[compare_ranges(ra, rb)]
                if has_spread(ra) and has_spread(rb) else one_seed)
        rows.append(f'| {a} vs {b} | {titles.get(key, key)} | '
                    f'{format_range(ra, digits)} | '
                    f'{format_range(rb, digits)} | {real} |')
    if rows:
        lines.append('| comparison (A vs B) | metric | A | B | real? |')
        lines.append('| --- | --- | --: | --: | --- |')
        lines.extend(rows)
        lines.append('')
    base = ranges[baseline]
    order = [v for v in variants if v in present] + [
        v for v in present if v not in variants]
    lines.append(f'Every metric of the tables above, each variant against '
                 f'{baseline}:')
    lines.append('')
    for name in order:
        if name == baseline:
            continue
        other = ranges[name]
        judged = [key for key in keys if key in base and key in other
                  and has_spread(base[key]) and has_spread(other[key])]
        if not judged:
            lines.append(f'- {name}: not judged (one seed has no spread).')
            continue
        above, below = [], []
        for key in judged:
            side = compare_ranges(base[key], other[key])
            (above if side > 0 else below if side < 0 else []).append(
                titles[key])
        text = (f'higher on {", ".join(above)}' if above else '')
        if below:
            text += ('; ' if text else '') + f'lower on {", ".join(below)}'
        lines.append(f'- {name}: ' + (text or 'no real difference') + '.')
    lines.append('')
    return lines
