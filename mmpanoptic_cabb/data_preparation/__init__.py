"""Offline data preparation: dataset converters and the synthetic generator.

Nothing at runtime (training, testing, the dataset classes) imports this
package; it may import runtime code (:mod:`mmpanoptic_cabb.structures`,
:mod:`mmpanoptic_cabb.datasets.categories`). Entry points are in
``tools/dataset_converters/``.
"""
