"""mmpanoptic_cabb.analysis.ablation.comparisons: the study's rule (a
difference is real only when the seed ranges do not overlap) and its
section of the report."""
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from mmpanoptic_cabb.analysis.ablation import comparisons

_seeds = st.lists(st.floats(0, 100, allow_nan=False), min_size=1,
                  max_size=4)


@settings(max_examples=200, deadline=None)
@given(_seeds, _seeds)
def test_rule_is_disjoint_ranges(a_values, b_values):
    a = comparisons.seed_range(a_values)
    b = comparisons.seed_range(b_values)
    side = comparisons.compare_ranges(a, b)
    assert side == -comparisons.compare_ranges(b, a)
    pairs = [(x, y) for x in a_values for y in b_values]
    assert (side == 1) == all(y > x for x, y in pairs)
    assert (side == -1) == all(y < x for x, y in pairs)
    assert math.isclose(a[0], sum(a_values) / len(a_values), abs_tol=1e-9)
    assert (a[1], a[2], a[3]) == (min(a_values), max(a_values),
                                  len(a_values))


def test_seed_range_drops_missing_values():
    assert comparisons.seed_range([None, float('nan')]) is None
    assert comparisons.seed_range([3.0, None, 1.0, 5.0]) == (3.0, 1.0, 5.0, 3)
    # touching ranges are not a real difference
    assert comparisons.compare_ranges((1, 0, 2, 2), (3, 2, 4, 2)) == 0


def _record(variant, seed, **metrics):
    return dict(variant=variant, seed=seed, metrics=metrics)


def test_section_lists_headline_and_real_differences():
    records = [
        # CROP: box AP of the largest bucket 4 and 10, PQ 70 and 72
        _record('CROP', 0, PQ=70.0, PC_th=20.0, **{'bbox_mAP_p87-100': 4.0}),
        _record('CROP', 1, PQ=72.0, PC_th=40.0, **{'bbox_mAP_p87-100': 10.0}),
        _record('CROP+CABB', 0, PQ=74.0, PC_th=30.0,
                **{'bbox_mAP_p87-100': 8.0}),
        _record('CROP+CABB', 1, PQ=75.0, PC_th=31.0,
                **{'bbox_mAP_p87-100': 9.0}),
        _record('CROP+CABB+ISUS', 0, PQ=60.0, PC_th=50.0),
        _record('CROP+CABB+ISUS', 1, PQ=61.0, PC_th=45.0),
    ]
    metrics = [('PQ', 'PQ'), ('PC_th', 'PC_th'),
               ('bbox_mAP_p87-100', 'box AP 87–100')]
    lines = comparisons.render_comparisons(
        records, ['CROP', 'CROP+CABB', 'CROP+CABB+ISUS'], metrics,
        largest_box='bbox_mAP_p87-100')
    text = '\n'.join(lines)
    assert ('| CROP vs CROP+CABB | box AP 87–100 | 7.0 (4.0–10.0), n=2 | '
            '8.5 (8.0–9.0), n=2 | no (the ranges overlap) |') in text
    assert ('| CROP vs CROP+CABB+ISUS | PQ | 71.0 (70.0–72.0), n=2 | '
            '60.5 (60.0–61.0), n=2 | yes, B lower |') in text
    assert ('| CROP vs CROP+CABB+ISUS | PC_th | 30.0 (20.0–40.0), n=2 | '
            '47.5 (45.0–50.0), n=2 | yes, B higher |') in text
    assert '- CROP+CABB: higher on PQ.' in lines
    assert '- CROP+CABB+ISUS: higher on PC_th; lower on PQ.' in lines
    # a variant with one seed is not judged, although its range is disjoint
    lines = comparisons.render_comparisons(
        records[:5], ['CROP', 'CROP+CABB', 'CROP+CABB+ISUS'], metrics,
        largest_box='bbox_mAP_p87-100')
    assert ('| CROP vs CROP+CABB+ISUS | PQ | 71.0 (70.0–72.0), n=2 | '
            '60.0 (60.0–60.0), n=1 | n/a (one seed has no spread) |') in lines
    assert '- CROP+CABB+ISUS: not judged (one seed has no spread).' in lines
    assert '- CROP+CABB: higher on PQ.' in lines
    # without a largest bucket the box-AP headline row is left out
    lines = comparisons.render_comparisons(records, ['CROP'], metrics[:2])
    assert not any('box AP' in line for line in lines)
    assert comparisons.render_comparisons(records[2:], ['CROP'],
                                          metrics) == []
