"""Benchmark the CABB target solver and CABBLoss against SmoothL1Loss.

Example::

    python tools/analysis_tools/benchmark_cabb.py --rows 8192 --threads 1
"""
import argparse
import statistics
import time
from typing import Callable, Dict

import torch
from mmdet.models.losses import SmoothL1Loss

from mmpanoptic_cabb.models.losses import CABBLoss, cabb_targets


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Time cabb_targets and CABBLoss vs SmoothL1Loss.')
    parser.add_argument(
        '--rows', type=int, default=8192, help='number of box rows (N)')
    parser.add_argument(
        '--truncated-fraction',
        type=float,
        default=0.3,
        help='fraction of rows with 1-2 truncated sides')
    parser.add_argument('--beta', type=float, default=1. / 9)
    parser.add_argument(
        '--stds',
        type=float,
        nargs=4,
        default=[0.1, 0.1, 0.2, 0.2],
        help='bbox coder target_stds')
    parser.add_argument(
        '--threads', type=int, default=1, help='torch CPU threads (default 1)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--dtype', choices=['float32', 'float64'], default='float32')
    parser.add_argument('--repeats', type=int, default=30)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def make_rows(args: argparse.Namespace) -> Dict[str, torch.Tensor]:
    """Random normalised deltas: targets, noisy predictions and flags."""
    gen = torch.Generator().manual_seed(args.seed)
    n = args.rows
    dtype = getattr(torch, args.dtype)
    target = torch.randn(n, 4, generator=gen, dtype=dtype)
    pred = target + 0.7 * torch.randn(n, 4, generator=gen, dtype=dtype)
    truncated = torch.zeros(n, 4, dtype=torch.bool)
    chosen = torch.rand(n, generator=gen) < args.truncated_fraction
    num_sides = torch.randint(1, 3, (n, ), generator=gen)
    sides = torch.rand(n, 4, generator=gen).argsort(1)
    for k in range(2):
        rows = chosen & (num_sides > k)
        truncated[rows, sides[rows, k]] = True
    weight = torch.ones(n, 4, dtype=dtype)
    return {
        name: value.to(args.device)
        for name, value in dict(
            pred=pred, target=target, truncated=truncated,
            weight=weight).items()
    }


def time_ms(fn: Callable[[], object], args: argparse.Namespace) -> float:
    """Median wall time of ``fn`` in milliseconds."""
    sync = torch.cuda.synchronize if args.device.startswith('cuda') else (
        lambda: None)
    for _ in range(args.warmup):
        fn()
    sync()
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    rows = make_rows(args)
    stds = tuple(args.stds)
    cabb = CABBLoss(beta=args.beta, stds=stds)
    plain = SmoothL1Loss(beta=args.beta)

    def solve():
        return cabb_targets(
            rows['pred'],
            rows['target'],
            rows['truncated'],
            args.beta,
            stds=stds)

    def forward_backward(loss, **kwargs):

        def run():
            pred = rows['pred'].clone().requires_grad_()
            loss(
                pred,
                rows['target'],
                rows['weight'],
                avg_factor=float(args.rows),
                **kwargs).backward()

        return run

    truncated_rows = int(rows['truncated'].any(1).sum())
    print(f'rows={args.rows} truncated rows={truncated_rows} '
          f'truncated sides={int(rows["truncated"].sum())} '
          f'threads={torch.get_num_threads()} device={args.device} '
          f'dtype={args.dtype} beta={args.beta:.4g} stds={stds}')
    t_solve = time_ms(solve, args)
    t_cabb = time_ms(forward_backward(cabb, truncated=rows['truncated']), args)
    t_plain = time_ms(forward_backward(plain), args)
    print(f'{"":28s}{"ms":>10s}')
    print(f'{"cabb_targets":28s}{t_solve:10.3f}')
    print(f'{"CABBLoss fwd+bwd":28s}{t_cabb:10.3f}')
    print(f'{"SmoothL1Loss fwd+bwd":28s}{t_plain:10.3f}')
    print(f'{"ratio CABB / SmoothL1":28s}{t_cabb / t_plain:10.2f}x')


if __name__ == '__main__':
    main()
