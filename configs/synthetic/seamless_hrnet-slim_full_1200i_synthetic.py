# FULL at slim width: the CROP config trained on whole images (rescaled to s0 with scale
# augmentation, no crop, so no truncation), one image per iteration as in the paper's FULL runs.
_base_ = './seamless_hrnet-slim_crop-256_1200i_synthetic.py'

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadPanopticAnnotationsLean',
         backend_args={{_base_.backend_args}}),
    dict(type='ISUSResize',
         short_side={{_base_.s0}},
         stuff_range={{_base_.scale_range}},
         isus=False),
    dict(type='PanopticRandomFlip', prob=0.5),
    dict(type='InstMapToMasks'),
    dict(type='PackPanopticInputs'),
]
train_dataloader = dict(
    batch_size=1, dataset=dict(dataset=dict(pipeline=train_pipeline)))
