# CROP + CABB + ISUS at slim width: the CROP + ISUS config with the CABB loss in the region proposal
# head and in the RoI box head (as in seamless_hrnet-slim_crop-256-cabb_1200i_synthetic.py).
_base_ = './seamless_hrnet-slim_crop-256-isus_1200i_synthetic.py'

model = dict(rpn_head=dict(loss_bbox=dict(type='CABBLoss')),
             roi_head=dict(bbox_head=dict(loss_bbox=dict(type='CABBLoss'))))
