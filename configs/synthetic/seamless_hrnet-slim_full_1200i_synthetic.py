# FULL at slim width, as the paper's Mapillary Vistas FULL row (App. D): the CROP config trained
# on whole images (scale augmentation and flips, no crop, so no truncation), one image per
# iteration, at s0 = 288 = 0.5625 x the crop configs' s0 (the paper's 1344 / 2400: whole images at
# the crop s0 do not fit a GPU, so CROP works on almost twice the resolution) and half the crop
# configs' learning rate (paper: 0.02 vs 0.04); inference at the same s0.
_base_ = './seamless_hrnet-slim_crop-256_1200i_synthetic.py'

s0 = 288  # paper: s_0 of full-image training

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
optim_wrapper = dict(optimizer=dict(lr=0.01))
