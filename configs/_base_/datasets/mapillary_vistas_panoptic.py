# Mapillary Vistas v1.2 panoptic (65 classes: 37 things, 28 stuff; paper Sec. 4, App. D): 1024x1024
# crops of images rescaled to s_0 = 2400, r_st = [0.8, 1.25], 4 crops per GPU; full-image
# inference at s_0. Prepare it with:
#   python tools/dataset_converters/mapillary_vistas_panoptic.py \
#       --root /path/to/mapillary_vistas --out data/mapillary_vistas
# The class counts are set with the model (configs/seamless*/..._mapillary-vistas.py).
_base_ = './panoptic_crop_cus.py'

from mmpanoptic_cabb.utils.dataset_config import fill_crop_cus_base  # noqa: E402

globals().update(fill_crop_cus_base(
    _base_, dataset_type='MapillaryVistasPanopticDataset',
    data_root='data/mapillary_vistas/', s0=2400, stuff_range=(0.8, 1.25),
    crop_size=(1024, 1024), batch_size=4, epoch_based=True))
