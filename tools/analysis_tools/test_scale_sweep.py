"""Test one checkpoint at several inference scales (shortest sides).

Runs ``tools/test.py`` once per ``--short-sides`` value, with the test
pipeline's keep-ratio ``Resize`` moved to that shortest side (its long-side
cap in proportion), and writes every test's metrics to one JSON record. A
side whose work dir already holds test metrics is not tested again: rerun
the same command to continue a killed sweep. Draw several records with
``plot_test_scales.py``.

Example::

    python tools/analysis_tools/test_scale_sweep.py \\
        configs/synthetic/seamless_hrnet-slim_crop-256-cabb_1200i_synthetic.py \\
        work_dirs/.../iter_12000.pth --short-sides 256 384 512 \\
        --data-root data/synthetic_large --work-dir work_dirs/scales_cabb \\
        --out work_dirs/scales_cabb.json \\
        --cfg-options "test_evaluator.area_percentiles=[25,50,75,87,95]"
"""
import argparse
from typing import Optional, Sequence


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='test one checkpoint at several shortest sides')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--short-sides',
        type=int,
        nargs='+',
        required=True,
        help='test shortest sides in pixels')
    parser.add_argument(
        '--work-dir', required=True, help='root of the tests\' work dirs')
    parser.add_argument('--out', required=True, help='JSON record')
    parser.add_argument('--data-root', help='dataset root to test on')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='further key=value items for tools/test.py')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Run the sweep; returns its record."""
    args = parse_args(argv)
    from mmpanoptic_cabb.analysis.test_scales import sweep_test_scales
    record = sweep_test_scales(
        args.config,
        args.checkpoint,
        args.short_sides,
        args.work_dir,
        data_root=args.data_root,
        cfg_options=args.cfg_options,
        out=args.out)
    for side, test in record['tests'].items():
        m = test['metrics']
        print(f'short side {side}: PQ {m.get("PQ")}, PC_th {m.get("PC_th")}, '
              f'box mAP {m.get("bbox_mAP")} ({test["source"]})')
    print(f'wrote {args.out}')
    return record


if __name__ == '__main__':
    main()
