"""The study's variants and their seeds.

A variant is one config (one row of the table), named after its file name
unless named on the command line; every variant runs over a few seeds.
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

from .common import AblationError, resolve_path

#: The Table 1 variants on the synthetic dataset, in the table's order.
DEFAULT_CONFIGS = tuple(
    osp.join('configs', 'synthetic', name) for name in (
        'seamless_hrnet-slim_full_1200i_synthetic.py',
        'seamless_hrnet-slim_crop-256_1200i_synthetic.py',
        'seamless_hrnet-slim_crop-256-cabb_1200i_synthetic.py',
        'seamless_hrnet-slim_crop-256-isus_1200i_synthetic.py',
        'seamless_hrnet-slim_crop-256-cabb-isus_1200i_synthetic.py',
    ))
#: Variants compared most closely (the baseline and the full method).
THREE_SEED_VARIANTS = ('CROP', 'CROP+CABB+ISUS')
THREE_SEEDS = (0, 1, 2)
TWO_SEEDS = (0, 1)


def variant_name(config: str) -> str:
    """Short variant name from a config file name.

    ``..._full_...`` -> ``FULL``, ``..._crop-256-cabb-isus_...`` ->
    ``CROP+CABB+ISUS`` (numbers dropped); the file name's stem otherwise.

    Args:
        config (str): Config path.

    Returns:
        str: The variant name.
    """
    stem = osp.splitext(osp.basename(config))[0]
    for part in stem.split('_'):
        tokens = part.split('-')
        if tokens[0] in ('full', 'crop'):
            return '+'.join(t.upper() for t in tokens if not t.isdigit())
    return stem


def parse_configs(items: Sequence[str]) -> List[Tuple[str, str]]:
    """``[NAME=]CONFIG`` items to ``(variant, absolute config path)`` pairs.

    Args:
        items (Sequence[str]): Items of ``--configs``.

    Returns:
        list[tuple[str, str]]: Variants in the given order.
    """
    out: List[Tuple[str, str]] = []
    for item in items:
        name, sep, path = item.partition('=')
        if not sep:
            name, path = '', item
        path = resolve_path(path)
        if not osp.isfile(path):
            raise AblationError(f'config not found: {path}')
        name = name or variant_name(path)
        if name in (n for n, _ in out):
            raise AblationError(
                f'two configs are named {name!r}; name them with '
                f'NAME=CONFIG in --configs')
        out.append((name, path))
    stems = [osp.splitext(osp.basename(p))[0] for _, p in out]
    if len(set(stems)) != len(stems):
        raise AblationError(f'configs share a file name: {stems}; their work '
                            'dirs would collide')
    return out


def seeds_per_variant(variants: Sequence[str],
                      seeds: Optional[Sequence[int]] = None,
                      seeds_for: Sequence[str] = ()) -> Dict[str, List[int]]:
    """The seeds of every variant.

    Args:
        variants (Sequence[str]): Variant names.
        seeds (Sequence[int], optional): Seeds for every variant; default
            :data:`THREE_SEEDS` for :data:`THREE_SEED_VARIANTS` and
            :data:`TWO_SEEDS` for the others.
        seeds_for (Sequence[str]): ``VARIANT=S1,S2,...`` overrides.

    Returns:
        dict[str, list[int]]: Sorted, unique seeds per variant.
    """
    out = {}
    for name in variants:
        if seeds is not None:
            out[name] = list(seeds)
        else:
            out[name] = list(THREE_SEEDS if name in THREE_SEED_VARIANTS else
                             TWO_SEEDS)
    for item in seeds_for:
        name, sep, values = item.partition('=')
        if not sep or name not in out:
            raise AblationError(
                f'--seeds-for {item!r}: expected VARIANT=S1,S2 with VARIANT '
                f'among {list(out)}')
        try:
            out[name] = [int(v) for v in values.split(',') if v.strip()]
        except ValueError as exc:
            raise AblationError(f'--seeds-for {item!r}: {exc}') from None
    for name, values in out.items():
        if not values:
            raise AblationError(f'variant {name} has no seeds')
        out[name] = sorted(set(values))
    return out
