"""Convert IDD (``*_gtFine_instancelevel3Ids.png``) to COCO panoptic.

The level-3 instance id images, which the IDD toolkit's panoptic converter
reads too, come from the toolkit's ``preperation/createLabels.py`` (run with
``--id-type level3Id --instance True``). Writes::

    OUT/images/SPLIT/{seq}_{frame}_leftImg8bit.png        (links, or copies)
    OUT/annotations/panoptic_SPLIT/{seq}_{frame}_gtFine_panoptic.png
    OUT/annotations/panoptic_SPLIT.json

Example::

    python tools/dataset_converters/idd_panoptic.py \
        --root /data/idd --out data/idd --split train val
"""
import sys

from mmpanoptic_cabb.data_preparation.converters.cli import (
    build_parser, run_conversion)
from mmpanoptic_cabb.data_preparation.converters.idd import \
    convert_idd_split


def main() -> int:
    parser = build_parser(__doc__.splitlines()[0], ('train', 'val'))
    return run_conversion(convert_idd_split, parser.parse_args())


if __name__ == '__main__':
    sys.exit(main())
