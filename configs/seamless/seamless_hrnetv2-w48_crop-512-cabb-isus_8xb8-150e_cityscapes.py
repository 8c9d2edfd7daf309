# Cityscapes, CROP + CABB + ISUS row of Table 1: the CROP config with the crop-aware bounding box
# loss (Sec. 2.3) in the region proposal head and in the RoI box head, and instance scale-uniform
# sampling (Sec. 2.1): a drawn thing instance is rescaled onto a uniformly drawn pyramid level by
# the model's own level rule (its RoI extractor's finest_scale and number of feature maps), sigma
# clamped to r_th = [0.25, 4] (App. D); stuff draws keep sigma ~ U(r_st). Fine-tuned from the
# Mapillary Vistas CROP + CABB + ISUS model. Nothing else differs.
_base_ = './seamless_hrnetv2-w48_crop-512_8xb8-150e_cityscapes.py'

model = dict(
    rpn_head=dict(loss_bbox=dict(type='CABBLoss')),
    roi_head=dict(bbox_head=dict(loss_bbox=dict(type='CABBLoss'))))

thing_range = (0.25, 4.0)   # paper: r_th

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadPanopticAnnotationsLean',
         backend_args={{_base_.backend_args}}),
    dict(type='ISUSResize',
         short_side={{_base_.s0}},
         stuff_range={{_base_.scale_range}},
         thing_range=thing_range,
         isus=True,
         # the model's level rule, read from its RoI extractor
         finest_scale={{_base_.model.roi_head.bbox_roi_extractor.finest_scale}},
         featmap_strides={{_base_.model.roi_head.bbox_roi_extractor.featmap_strides}}),  # noqa: E501
    dict(type='PanopticRandomFlip', prob=0.5),
    dict(type='TruncationAwareRandomCrop', crop_size={{_base_.crop_size}}),
    dict(type='InstMapToMasks'),
    dict(type='PackPanopticInputs'),
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))

# Initialisation: the Mapillary Vistas CROP + CABB + ISUS model (set the path to your checkpoint).
load_from = 'work_dirs/seamless_hrnetv2-w48_crop-1024-cabb-isus_8xb4-300e_mapillary-vistas/epoch_300.pth'  # noqa: E501
