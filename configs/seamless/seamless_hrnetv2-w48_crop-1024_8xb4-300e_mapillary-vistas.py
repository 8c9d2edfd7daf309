# Mapillary Vistas, CROP row of Table 1: the paper's network (HRNetV2-W48 body, FPN + Mask R-CNN,
# DeepLabV3+, Seamless fusion, synchronized ABN) with the standard box loss, trained on 1024x1024
# crops of images rescaled to s0 = 2400 with class-uniform sampling (CUS, r_st = [0.8, 1.25]) and
# horizontal flips; 8 GPUs x 4 crops, lr_0 = 0.04, 300 epochs (App. D); inference on full images
# rescaled to s0. The Mapillary Vistas model settings (class counts) live here only: the other
# Mapillary Vistas variants of this network inherit them.
_base_ = [
    '../_base_/models/seamless_hrnetv2-w48_fpn_dlv3plus.py',
    '../_base_/datasets/mapillary_vistas_panoptic.py',
    '../_base_/schedules/sgd_linear-warmup-decay_epoch-based.py',
]

# Mapillary Vistas v1.2: 37 thing and 28 stuff classes (the model base's counts). ASPP image
# pooling over one training crop's window (1024 px / stride 32 = 32 cells) so full-image
# inference pools the context a crop saw.
model = dict(semantic_head=dict(pooling_size=(32, 32)))

max_epochs = 300
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=0.04))
auto_scale_lr = dict(base_batch_size=32)   # 8 GPUs x 4 crops
