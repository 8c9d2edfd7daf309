# Appendix D schedule: SGD (momentum 0.9, weight decay 1e-4), linear warm-up from 0 over the first
# 200 steps, then lr_i = lr_0 * (1 - i / #steps). Configs with another length override
# `train_cfg.max_iters` and the decay's `end` together.
max_iters = 2000

train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=35, norm_type=2))

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=200),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=False, begin=0,
         end=max_iters),
]

# lr_0 above is for 16 images per iteration (8 GPUs x 2); --auto-scale-lr rescales it.
auto_scale_lr = dict(enable=False, base_batch_size=16)
