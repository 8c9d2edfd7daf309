# The embedded synthetic high-resolution panoptic dataset (1024x2048 images): 256x256 crops of
# images rescaled to s_0 = 512, r_st = [0.5, 2], 2 crops per iteration; full-image inference at s_0.
# Generate it with: python tools/dataset_converters/make_synthetic_panoptic.py --out data/synthetic
_base_ = './panoptic_crop_cus.py'

from mmpanoptic_cabb.utils.dataset_config import fill_crop_cus_base  # noqa: E402

globals().update(fill_crop_cus_base(
    _base_, dataset_type='SyntheticPanopticDataset', data_root='data/synthetic/', s0=512,
    stuff_range=(0.5, 2.0), crop_size=(256, 256), batch_size=2, num_workers=2))
