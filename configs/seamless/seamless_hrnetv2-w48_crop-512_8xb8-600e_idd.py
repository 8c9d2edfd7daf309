# IDD, CROP row of Table 1: the paper's network (HRNetV2-W48 body, FPN + Mask R-CNN, DeepLabV3+,
# Seamless fusion, synchronized ABN) with the standard box loss, trained on 512x512 crops of
# images rescaled to s0 = 1080 with class-uniform sampling (CUS, r_st = [0.5, 2]) and horizontal
# flips; 8 GPUs x 8 crops, lr_0 = 0.08, 600 epochs (App. D); inference on full images rescaled to
# s0. The IDD model settings (class counts, ASPP) live here only: the other IDD variants of this
# network inherit them.
_base_ = [
    '../_base_/models/seamless_hrnetv2-w48_fpn_dlv3plus.py',
    '../_base_/datasets/idd_panoptic.py',
    '../_base_/schedules/sgd_linear-warmup-decay_epoch-based.py',
]

# IDD level 3: 9 thing and 17 stuff classes. ASPP image pooling over one training crop's
# window (512 px / stride 32 = 16 cells) so full-image inference pools the context a crop saw;
# ASPP rates scaled from Panoptic-DeepLab's (3, 6, 9), which suit the 32x32 cells of a 1024 px
# crop, to the 16x16 cells of a 512 px crop: ceil(r * 16 / 32).
model = dict(
    num_things_classes=9,
    num_stuff_classes=17,
    semantic_head=dict(pooling_size=(16, 16), dilations=(2, 3, 5)))

max_epochs = 600
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=0.08))
auto_scale_lr = dict(base_batch_size=64)   # 8 GPUs x 8 crops
