# Cityscapes, FULL row of Table 1: the CROP config trained on whole images (rescaled to s0 = 1024
# with the r_st scale augmentation, class-uniform sampling and flips; no crop, so no truncation),
# fine-tuned from the Mapillary Vistas FULL model, 8 GPUs x 1 image, lr_0 = 0.01, 20 epochs
# (App. D); inference on full images rescaled to s0.
_base_ = './seamless_hrnetv2-w48_crop-512_8xb8-150e_cityscapes.py'

train_pipeline = [step for step in _base_.train_pipeline
                  if step.type != 'TruncationAwareRandomCrop']
train_dataloader = dict(
    batch_size=1, dataset=dict(dataset=dict(pipeline=train_pipeline)))

max_epochs = 20
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=0.01))
auto_scale_lr = dict(base_batch_size=8)   # 8 GPUs x 1 image

# Initialisation: the Mapillary Vistas FULL model (set the path to your checkpoint).
load_from = 'work_dirs/seamless_hrnetv2-w48_full_8xb1-75e_mapillary-vistas/epoch_75.pth'
