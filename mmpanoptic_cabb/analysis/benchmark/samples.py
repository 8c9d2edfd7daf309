"""Generated high-resolution samples of the benchmarks, shaped like each
supported dataset (its size, its thing and stuff labels)."""
import json
import os.path as osp
from typing import Dict, Optional, Tuple

#: Per dataset: its dataset class, category table and a typical image size
#: (width, height): a 12 MP 4:3 Mapillary Vistas image (its validation
#: images reach 22 MP), IDD's 1920 x 1080 and Cityscapes' 2048 x 1024.
DATASET_SAMPLES = {
    'mapillary_vistas': ('MapillaryVistasPanopticDataset',
                         'MAPILLARY_VISTAS_V12_CATEGORIES', (4000, 3000)),
    'idd': ('IDDPanopticDataset', 'IDD_LEVEL3_CATEGORIES', (1920, 1080)),
    'cityscapes': ('CityscapesPanopticDataset', 'CITYSCAPES_CATEGORIES',
                   (2048, 1024)),
}


def label_ranges(dataset: str) -> Tuple[Tuple[int, ...], Tuple[int, ...]]:
    """Contiguous thing and stuff labels of a dataset of
    :data:`DATASET_SAMPLES`."""
    from mmpanoptic_cabb import datasets
    meta = getattr(datasets, DATASET_SAMPLES[dataset][0]).METAINFO
    num_things = len(meta['thing_classes'])
    return (tuple(range(num_things)),
            tuple(range(num_things, len(meta['classes']))))


def generate_sample(out_dir: str,
                    megapixels: float,
                    num_instances: int,
                    seed: int = 0,
                    dataset: str = None,
                    aspect: float = 4 / 3,
                    name: str = 'image') -> str:
    """Write a panoptic sample; returns the path of its data info JSON.

    See :func:`~mmpanoptic_cabb.data_preparation.synthetic.benchmark_sample.
    write_benchmark_sample`; with ``dataset`` (a key of
    :data:`DATASET_SAMPLES`) the things and stuff bands take that dataset's
    contiguous labels.
    """
    from mmpanoptic_cabb.data_preparation.synthetic.benchmark_sample import \
        write_benchmark_sample
    kwargs = {}
    if dataset is not None:
        things, stuff = label_ranges(dataset)
        kwargs = dict(thing_labels=things, stuff_labels=stuff)
    return write_benchmark_sample(
        out_dir, megapixels, num_instances, seed, name=name, aspect=aspect,
        **kwargs)


def generate_dataset(root: str,
                     dataset: str,
                     num_instances: int,
                     num_images: int,
                     megapixels: Optional[float] = None) -> Dict:
    """A dataset-shaped benchmark dataset: ``num_images`` links to one
    sample of the dataset's typical size (or ``megapixels`` at its aspect)
    and labels, in the converters' layout under ``root`` (``data_root`` of
    the dataset's configs).

    Returns:
        dict: ``megapixels``, ``size`` (width, height) and ``root``.
    """
    from mmpanoptic_cabb.data_preparation.synthetic.benchmark_sample import \
        write_benchmark_dataset
    from mmpanoptic_cabb.datasets import categories
    _, table, (width, height) = DATASET_SAMPLES[dataset]
    sample = generate_sample(
        root, megapixels or width * height / 1e6, num_instances, dataset=dataset,
        aspect=width / height, name=f'{dataset}_sample')
    write_benchmark_dataset(root, sample,
                            categories.coco_categories(
                                getattr(categories, table)), num_images)
    with open(sample) as f:
        info = json.load(f)
    return dict(
        megapixels=info['height'] * info['width'] / 1e6,
        size=(info['width'], info['height']),
        root=osp.abspath(root))
