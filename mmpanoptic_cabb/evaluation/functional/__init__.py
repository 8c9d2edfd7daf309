"""Pure-numpy panoptic evaluation kernels (no registries).

PQ/SQ/RQ (COCO panopticapi protocol), PQ† (Porzi et al. 2019), Parsing
Covering (Yang et al. 2019) and semantic mIoU from one counting pass per
image; COCO box/mask AP with area-percentile buckets via pycocotools.
"""
# the PNG codec and its error are re-exported for backward compatibility;
# they live in :mod:`mmpanoptic_cabb.structures`
from mmpanoptic_cabb.structures.errors import PanopticFormatError
from mmpanoptic_cabb.structures.panoptic_png import (decode_panoptic_png,
                                                     id2rgb, read_panoptic_png,
                                                     rgb2id,
                                                     write_panoptic_png)
from .coco_panoptic_eval import (compute_coco_panoptic_stats,
                                 evaluate_coco_panoptic, evaluate_image_pair,
                                 load_json, match_annotations,
                                 parse_categories, parse_segments,
                                 write_coco_panoptic_pair)
from .instance_eval import (DEFAULT_PERCENTILES, evaluate_instances,
                            percentile_buckets)
from .instance_rle import masks_to_rles, segments_to_rles
from .panoptic_image_stats import image_panoptic_stats
from .panoptic_stats import PanopticStats
from .panoptic_summary import (SUMMARY_KEYS, format_per_class_table,
                               format_summary_table, per_class_metrics,
                               summarize_panoptic_stats)
from .segment_confusion import (confusion_from_runs,
                                confusion_with_panoptic_pred,
                                map_ids_to_indices, run_length_pairs,
                                segment_confusion)

__all__ = [
    'PanopticFormatError', 'PanopticStats', 'SUMMARY_KEYS',
    'DEFAULT_PERCENTILES', 'compute_coco_panoptic_stats',
    'evaluate_coco_panoptic', 'evaluate_image_pair', 'load_json',
    'match_annotations', 'parse_categories', 'parse_segments',
    'evaluate_instances', 'percentile_buckets', 'masks_to_rles',
    'segments_to_rles', 'image_panoptic_stats', 'decode_panoptic_png',
    'id2rgb', 'read_panoptic_png', 'rgb2id', 'write_panoptic_png',
    'format_per_class_table', 'format_summary_table', 'per_class_metrics',
    'summarize_panoptic_stats', 'confusion_from_runs',
    'confusion_with_panoptic_pred', 'map_ids_to_indices', 'run_length_pairs',
    'segment_confusion', 'write_coco_panoptic_pair'
]
