# IDD, FULL row of Table 1: the CROP config trained on whole images (rescaled to s0 = 1080 with
# the r_st scale augmentation, class-uniform sampling and flips; no crop, so no truncation),
# 8 GPUs x 1 image, lr_0 = 0.02, 75 epochs (App. D); inference on full images rescaled to s0.
_base_ = './seamless_hrnetv2-w48_crop-512_8xb8-600e_idd.py'

train_pipeline = [step for step in _base_.train_pipeline
                  if step.type != 'TruncationAwareRandomCrop']
train_dataloader = dict(
    batch_size=1, dataset=dict(dataset=dict(pipeline=train_pipeline)))

max_epochs = 75
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=0.02))
auto_scale_lr = dict(base_batch_size=8)   # 8 GPUs x 1 image
