# Appendix D schedule: SGD (momentum 0.9, weight decay 1e-4), linear warm-up from 0 over the first
# 200 iterations, then linear decay to 0 over the whole schedule, lr_i = lr_0 * (1 - i / #steps)
# (PolyLR, power 1, stepped every iteration). No gradient clipping (App. D has none).
# Each recipe sets its length, lr_0 and the batch lr_0 is meant for (App. D):
#   max_epochs = N
#   train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
#   optim_wrapper = dict(optimizer=dict(lr=...))
#   auto_scale_lr = dict(base_batch_size=...)   # GPUs x images per GPU; --auto-scale-lr rescales
# PolyLR has no `end`: mmengine ends it with the training loop, so the decay follows max_epochs.
# It includes the runtime (../default_runtime.py) with logs counted in epochs.
# Epoch-based: with ClassUniformDataset an epoch is len(dataset) class-uniform draws (by default
# the number of training images); pair it with ClassUniformSampler(infinite=False).
# ResumableEpochBasedTrainLoop is mmengine's EpochBasedTrainLoop (same uninterrupted run) that
# continues a resumed run exactly, also from a checkpoint written inside an epoch, and stops on a
# non-finite loss after saving the last good state.
_base_ = '../default_runtime.py'

train_cfg = dict(type='ResumableEpochBasedTrainLoop')
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', momentum=0.9, weight_decay=1e-4))

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=200),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=True,
         convert_to_iter_based=True, begin=0),
]

auto_scale_lr = dict(enable=False)

# Checkpoints every 2000 iterations, also inside an epoch (an epoch of the paper's recipes is about
# 47 iterations for Cityscapes crops, 2975 / 64, to 2250 for Mapillary Vistas FULL, 18000 / 8): a
# killed run loses at most 2000 iterations and resumes exactly where the checkpoint was written.
# The final weights are also written as epoch_<max_epochs>.pth (what the fine-tuning configs
# load). Logs are counted in epochs.
default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=2000, final_epoch_file=True))
log_processor = dict(by_epoch=True)
