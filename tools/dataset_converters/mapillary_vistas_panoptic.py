"""Validate Mapillary Vistas v1.2 panoptic annotations and lay them out.

Reads ``ROOT/{training,validation}/v1.2/panoptic/panoptic_2018.json``, its PNGs
and ``ROOT/{training,validation}/images/*.jpg``; checks them (categories, ids,
pairing, sizes) and writes::

    OUT/images/SPLIT/*.jpg                (links, or copies)
    OUT/annotations/panoptic_SPLIT/*.png  (links, or copies)
    OUT/annotations/panoptic_SPLIT.json   (integer image ids, things first)

Example::

    python tools/dataset_converters/mapillary_vistas_panoptic.py \
        --root /data/mapillary_vistas --out data/mapillary_vistas \
        --split train val
"""
import sys

from mmpanoptic_cabb.data_preparation.converters.cli import (
    build_parser, run_conversion)
from mmpanoptic_cabb.data_preparation.converters.mapillary_vistas import \
    convert_mapillary_vistas_split


def main() -> int:
    parser = build_parser(__doc__.splitlines()[0], ('train', 'val'))
    parser.add_argument(
        '--skip-pixel-check',
        action='store_true',
        help='do not decode the PNGs (ids and sizes '
        'unchecked)')
    args = parser.parse_args()
    return run_conversion(
        convert_mapillary_vistas_split,
        args,
        check_pixels=not args.skip_pixel_check)


if __name__ == '__main__':
    sys.exit(main())
