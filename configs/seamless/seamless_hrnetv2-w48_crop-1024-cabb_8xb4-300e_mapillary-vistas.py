# Mapillary Vistas, CROP + CABB row of Table 1: the CROP config with the crop-aware bounding box
# loss (Sec. 2.3) in the region proposal head and in the RoI box head. Nothing else differs.
_base_ = './seamless_hrnetv2-w48_crop-1024_8xb4-300e_mapillary-vistas.py'

model = dict(rpn_head=dict(loss_bbox=dict(type='CABBLoss')),
             roi_head=dict(bbox_head=dict(loss_bbox=dict(type='CABBLoss'))))
