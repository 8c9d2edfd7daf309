# Mapillary Vistas, "Seamless + CABB + ISUS" row of Table 1 (Sec. 4.3): the Seamless + ISUS config
# with the crop-aware bounding box loss (Sec. 2.3) in the region proposal head and in the RoI box
# head. Nothing else differs.
_base_ = './seamless_r50_crop-1024-isus_8xb4-300e_mapillary-vistas.py'

model = dict(rpn_head=dict(loss_bbox=dict(type='CABBLoss')),
             roi_head=dict(bbox_head=dict(loss_bbox=dict(type='CABBLoss'))))
