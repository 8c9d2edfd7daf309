"""Convert Cityscapes (``gtFine/*_instanceIds.png``) to COCO panoptic.

Follows cityscapesscripts' ``createPanopticImgs`` (label ids as category ids,
crowd "group" regions, labels not evaluated are void) and writes::

    OUT/images/SPLIT/*_leftImg8bit.png                    (links, or copies)
    OUT/annotations/panoptic_SPLIT/*_gtFine_panoptic.png
    OUT/annotations/panoptic_SPLIT.json

Example::

    python tools/dataset_converters/cityscapes_panoptic.py \
        --root /data/cityscapes --out data/cityscapes --split train val
"""
import sys

from mmpanoptic_cabb.data_preparation.converters.cityscapes import \
    convert_cityscapes_split
from mmpanoptic_cabb.data_preparation.converters.cli import (
    build_parser, run_conversion)


def main() -> int:
    parser = build_parser(__doc__.splitlines()[0], ('train', 'val'))
    return run_conversion(convert_cityscapes_split, parser.parse_args())


if __name__ == '__main__':
    sys.exit(main())
