"""Generate the embedded synthetic high-resolution panoptic dataset (COCO panoptic format).

Example::

    python tools/dataset_converters/make_synthetic_panoptic.py --out data/synthetic --seed 0
"""
import argparse
import time

from mmpanoptic_cabb.data_preparation.synthetic import \
    write_synthetic_dataset


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate the synthetic panoptic dataset')
    parser.add_argument('--out', default='data/synthetic',
                        help='output root directory')
    parser.add_argument('--seed', type=int, default=0, help='dataset seed')
    parser.add_argument('--num-train', type=int, default=200,
                        help='number of training images')
    parser.add_argument('--num-val', type=int, default=50,
                        help='number of validation images')
    parser.add_argument('--height', type=int, default=1024,
                        help='image height')
    parser.add_argument('--width', type=int, default=2048, help='image width')
    parser.add_argument('--nproc', type=int, default=0,
                        help='worker processes (0: all cores)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    start = time.perf_counter()
    splits = [(name, num) for name, num in (('train', args.num_train),
                                            ('val', args.num_val)) if num > 0]
    written = write_synthetic_dataset(
        args.out, seed=args.seed, splits=splits, height=args.height,
        width=args.width, nproc=args.nproc)
    elapsed = time.perf_counter() - start
    for split, path in written.items():
        print(f'{split}: {path}')
    print(f'generated {sum(n for _, n in splits)} images of '
          f'{args.height}x{args.width} in {elapsed:.1f} s')


if __name__ == '__main__':
    main()
