# CROP + CABB at slim width: the CROP config with the crop-aware bounding box loss (Sec. 2.3) in
# the region proposal head and in the RoI box head. Nothing else differs.
_base_ = './seamless_hrnet-slim_crop-256_1200i_synthetic.py'

model = dict(rpn_head=dict(loss_bbox=dict(type='CABBLoss')),
             roi_head=dict(bbox_head=dict(loss_bbox=dict(type='CABBLoss'))))
