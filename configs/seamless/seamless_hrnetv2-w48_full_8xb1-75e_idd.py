# IDD, FULL row of Table 1: the CROP config trained on whole images (rescaled to s0 = 1080 with
# the r_st scale augmentation, class-uniform sampling and flips; no crop, so no truncation),
# 8 GPUs x 1 image, lr_0 = 0.02, 75 epochs (App. D); inference on full images rescaled to s0.
_base_ = './seamless_hrnetv2-w48_crop-512_8xb8-600e_idd.py'

max_epochs = 75

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

train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=0.02))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=200),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=True,
         convert_to_iter_based=True, begin=0, end=max_epochs),
]
# lr_0 above is for 8 images per iteration (8 GPUs x 1).
auto_scale_lr = dict(base_batch_size=8)
default_hooks = dict(checkpoint=dict(interval=5))
