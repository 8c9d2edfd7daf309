# Mapillary Vistas, FULL row of Table 1: the CROP config trained on whole images (rescaled to
# s0 = 1344 with the r_st scale augmentation, class-uniform sampling and flips; no crop, so no
# truncation), 8 GPUs x 1 image, lr_0 = 0.02, 75 epochs (App. D); inference on full images
# rescaled to the same s0.
_base_ = './seamless_hrnetv2-w48_crop-1024_8xb4-300e_mapillary-vistas.py'

s0 = 1344  # paper: s_0 of full-image training

train_pipeline = [
    dict(step, short_side=s0) if step.type == 'ISUSResize' else step
    for step in _base_.train_pipeline
    if step.type != 'TruncationAwareRandomCrop'
]
test_pipeline = [
    dict(step, scale=(s0 * 8, s0)) if step.type == 'Resize' else step
    for step in _base_.test_pipeline
]
train_dataloader = dict(
    batch_size=1, dataset=dict(dataset=dict(pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

max_epochs = 75
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=0.02))
auto_scale_lr = dict(base_batch_size=8)   # 8 GPUs x 1 image
