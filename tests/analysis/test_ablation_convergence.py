"""mmpanoptic_cabb.analysis.ablation.convergence: late-decile loss means,
the flatness rule, the per-variant table and the loss-curve plot."""
import json
import math
import os

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mmpanoptic_cabb.analysis.ablation import convergence
from mmpanoptic_cabb.analysis.ablation.common import LOSSES_FILE


def _losses(total: int, interval: int, curves: dict) -> dict:
    iterations = list(range(interval, total + 1, interval))
    out = dict(iterations=iterations, window=interval)
    for key, fn in curves.items():
        out[key] = [fn(it) for it in iterations]
    return out


def _record(tmp_path, variant: str, seed: int, losses: dict,
            iters: int) -> dict:
    folder = tmp_path / variant / f'seed{seed}'
    os.makedirs(folder)
    with open(folder / LOSSES_FILE, 'w') as f:
        json.dump(losses, f)
    return dict(variant=variant, seed=seed, iters=iters,
                record_dir=str(folder))


def test_decile_means_of_a_line():
    # loss = iteration, logged every 10 of 1000: decile 8 holds 710..800
    losses = _losses(1000, 10, {'loss_cls': float})
    means = convergence.decile_means(losses['iterations'],
                                     losses['loss_cls'], 1000)
    assert means == [755.0, 855.0, 955.0]
    # gaps and non-finite values are left out; an empty decile is NaN
    values = [None if it == 800 else (math.nan if it == 790 else it)
              for it in losses['iterations']]
    d8, = convergence.decile_means(losses['iterations'], values, 1000, (8, ))
    assert d8 == np.mean(list(range(710, 790, 10)))
    empty, = convergence.decile_means([10, 20], [1.0, 2.0], 1000, (9, ))
    assert math.isnan(empty)


@settings(max_examples=100, deadline=None)
@given(st.floats(0.01, 10.0), st.floats(-0.5, 0.5))
def test_flatness_is_the_rounded_relative_change(first, change):
    last = first * (1 + change)
    rel = convergence.relative_change(first, last)
    assert math.isclose(rel, change, rel_tol=1e-6, abs_tol=1e-9)
    assert convergence.is_flat(rel) == (abs(round(rel * 100)) <= 5)
    assert math.isnan(convergence.relative_change(0.0, 1.0))
    assert convergence.is_flat(float('nan'))


def test_table_averages_seeds_and_marks_falling_losses(tmp_path):
    total = 1000
    flat = _losses(total, 10, {'loss_cls': lambda it: 0.2,
                               'loss_seg': lambda it: 1.0})
    falling = _losses(total, 10, {'loss_cls': lambda it: 0.4,
                                  'loss_seg': lambda it: 2.0 - it / 1000})
    records = [
        _record(tmp_path, 'CROP', 0, flat, total),
        _record(tmp_path, 'CROP', 1, falling, total),
        dict(variant='FULL', seed=0, iters=total,
             record_dir=str(tmp_path / 'no_losses')),
    ]
    runs = convergence.load_loss_runs(records)
    assert [r['seed'] for r, _ in runs] == [0, 1]  # FULL has no losses.json
    assert runs[1][1]['loss_cls'][0] == 0.4
    table = convergence.variant_convergence(runs, ['FULL', 'CROP'])
    assert list(table) == ['CROP']  # FULL has no losses.json
    count, means = table['CROP']
    assert count == 2
    assert means['loss_cls'] == [0.3, 0.3, 0.3]
    # seed 1's loss_seg is 2 - it / 1000: decile means 1.245, 1.145, 1.045
    np.testing.assert_allclose(means['loss_seg'],
                               [(1.0 + 1.245) / 2, (1.0 + 1.145) / 2,
                                (1.0 + 1.045) / 2])
    text = '\n'.join(convergence.render_convergence(runs, ['FULL', 'CROP']))
    row = next(line for line in text.splitlines()
               if line.startswith('| CROP |'))
    cells = [c.strip() for c in row.strip('|').split('|')]
    assert cells[:2] == ['CROP', '2']
    assert cells[2] == '0.300 → 0.300 → 0.300 (+0%)'
    # (1.0225 - 1.1225) / 1.1225 = -8.9 %: not flat, so bold
    assert cells[3] == '1.123 → 1.073 → 1.022 (**−9%**)'
    assert convergence.render_convergence(
        convergence.load_loss_runs(records[2:]), ['FULL']) == []


def test_loss_curves_png(tmp_path):
    losses = _losses(200, 10, {k: (lambda it: 1.0 / it)
                               for k in convergence.LOSS_KEYS})
    records = [_record(tmp_path, 'CROP', 0, losses, 200),
               _record(tmp_path, 'CROP+CABB', 0, losses, 200)]
    path = tmp_path / 'loss_curves.png'
    runs = convergence.load_loss_runs(records)
    assert convergence.plot_loss_curves(runs, ['CROP', 'CROP+CABB'],
                                        str(path))
    with open(path, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    assert 10_000 < path.stat().st_size < 400_000
    nothing = tmp_path / 'none.png'
    assert convergence.load_loss_runs([dict(variant='CROP', iters=200)]) == []
    assert not convergence.plot_loss_curves([], ['CROP'], str(nothing))
    assert not nothing.exists()
