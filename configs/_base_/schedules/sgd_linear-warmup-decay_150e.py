# Appendix D schedule over 150 epochs, lr_0 = 0.04 for 8 GPUs x 8 images (the Cityscapes
# crop runs): SGD (momentum 0.9, weight decay 1e-4), linear warm-up from 0 over the first 200
# iterations, then linear decay to 0 over the whole schedule, lr_i = lr_0 * (1 - i / #steps)
# (PolyLR, power 1, stepped every iteration). No gradient clipping (App. D has none).
# Epoch-based: with ClassUniformDataset an epoch is len(dataset) class-uniform draws (by default
# the number of training images); pair it with ClassUniformSampler(infinite=False).
max_epochs = 150

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_interval=max_epochs)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.04, momentum=0.9, weight_decay=1e-4))

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=200),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=True,
         convert_to_iter_based=True, begin=0, end=max_epochs),
]

# lr_0 above is for 64 images per iteration (8 GPUs x 8); --auto-scale-lr rescales it.
auto_scale_lr = dict(enable=False, base_batch_size=64)
