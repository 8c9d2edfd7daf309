# IDD panoptic, level-3 ids (26 classes: 9 things, 17 stuff; paper Sec. 4, App. D): 512x512 crops
# of images rescaled to s_0 = 1080, r_st = [0.5, 2], 8 crops per GPU; full-image inference at s_0.
# Prepare it with:
#   python tools/dataset_converters/idd_panoptic.py --root /path/to/idd --out data/idd
# The class counts are set with the model (configs/seamless/..._idd.py).
_base_ = './panoptic_crop_cus.py'

from mmpanoptic_cabb.utils.dataset_config import fill_crop_cus_base  # noqa: E402

globals().update(fill_crop_cus_base(
    _base_, dataset_type='IDDPanopticDataset', data_root='data/idd/', s0=1080,
    stuff_range=(0.5, 2.0), crop_size=(512, 512), batch_size=8, epoch_based=True))
