# Cityscapes, CROP + CABB + ISUS row of Table 1: the CROP + ISUS config with the crop-aware bounding box
# loss (Sec. 2.3) in the region proposal head and in the RoI box head. Nothing else differs.
_base_ = './seamless_hrnetv2-w48_crop-512-isus_8xb8-150e_cityscapes.py'

model = dict(rpn_head=dict(loss_bbox=dict(type='CABBLoss')),
             roi_head=dict(bbox_head=dict(loss_bbox=dict(type='CABBLoss'))))

# Initialisation: the Mapillary Vistas CROP + CABB + ISUS model (set the path to your checkpoint).
load_from = 'work_dirs/seamless_hrnetv2-w48_crop-1024-cabb-isus_8xb4-300e_mapillary-vistas/epoch_300.pth'  # noqa: E501
