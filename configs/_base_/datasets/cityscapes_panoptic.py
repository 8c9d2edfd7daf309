# Cityscapes panoptic (19 classes: 8 things, 11 stuff; paper Sec. 4, App. D): 512x512 crops of
# images rescaled to s_0 = 1024, r_st = [0.5, 2], 8 crops per GPU; full-image inference at s_0.
# Prepare it with:
#   python tools/dataset_converters/cityscapes_panoptic.py \
#       --root /path/to/cityscapes --out data/cityscapes
# The class counts are set with the model (configs/seamless/..._cityscapes.py).
_base_ = './panoptic_crop_cus.py'

from mmpanoptic_cabb.utils.dataset_config import fill_crop_cus_base  # noqa: E402

globals().update(fill_crop_cus_base(
    _base_, dataset_type='CityscapesPanopticDataset', data_root='data/cityscapes/',
    s0=1024, stuff_range=(0.5, 2.0), crop_size=(512, 512), batch_size=8, epoch_based=True))
