# The Appendix D schedule at CPU scale, for the synthetic configs: SGD (momentum 0.9, weight decay
# 1e-4, lr_0 = 0.02 for 16 images per iteration; --auto-scale-lr rescales it), linear warm-up over
# the first 50 iterations, then lr_i = lr_0 * (1 - i / #steps) over 1200 iterations; gradients
# clipped at norm 35 (training from scratch). PolyLR has no `end`: mmengine ends it with the
# training loop, so `--cfg-options train_cfg.max_iters=N` rescales the whole decay.
# ResumableIterBasedTrainLoop is mmengine's IterBasedTrainLoop (same uninterrupted run) that
# continues a resumed run exactly and stops on a non-finite loss after saving the last good state.
max_iters = 1200

train_cfg = dict(type='ResumableIterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=35, norm_type=2))

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=50),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=False, begin=0),
]

auto_scale_lr = dict(enable=False, base_batch_size=16)
