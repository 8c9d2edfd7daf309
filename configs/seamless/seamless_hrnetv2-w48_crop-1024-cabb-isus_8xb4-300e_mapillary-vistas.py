# Mapillary Vistas, CROP + CABB + ISUS row of Table 1 (the paper's full method): the CROP + ISUS
# config with the CABB loss in the region proposal head and in the RoI box head (as in
# seamless_hrnetv2-w48_crop-1024-cabb_8xb4-300e_mapillary-vistas.py).
_base_ = './seamless_hrnetv2-w48_crop-1024-isus_8xb4-300e_mapillary-vistas.py'

model = dict(rpn_head=dict(loss_bbox=dict(type='CABBLoss')),
             roi_head=dict(bbox_head=dict(loss_bbox=dict(type='CABBLoss'))))
