# Mapillary Vistas, "Seamless + CROP" row of Table 1 (Sec. 4.3): the Seamless Scene Segmentation
# baseline (ResNet-50 body, FPN + Mask R-CNN, Mini-DL semantic head on the FPN, Seamless fusion,
# synchronized ABN) with the standard box loss, trained like the paper's network: 1024x1024 crops
# of images rescaled to s0 = 2400 with class-uniform sampling (CUS, r_st = [0.8, 1.25]) and
# horizontal flips; 8 GPUs x 4 crops, lr_0 = 0.04, 300 epochs (App. D); inference on full images
# rescaled to s0. The Mapillary Vistas model settings (class counts) of this network live here.
_base_ = [
    '../_base_/models/seamless_r50_fpn_minidl.py',
    '../_base_/datasets/mapillary_vistas_panoptic.py',
    '../_base_/schedules/sgd_linear-warmup-decay_300e.py',
    '../_base_/default_runtime.py',
]

# Mapillary Vistas v1.2: 37 thing and 28 stuff classes. Every field that uses the counts is set
# again here (mmengine resolves the variables inside the model base).
num_things_classes = 37
num_stuff_classes = 28
model = dict(
    roi_head=dict(
        bbox_head=dict(num_classes=num_things_classes),
        mask_head=dict(num_classes=num_things_classes)),
    semantic_head=dict(
        num_things_classes=num_things_classes,
        num_stuff_classes=num_stuff_classes),
    panoptic_fusion_head=dict(
        num_things_classes=num_things_classes,
        num_stuff_classes=num_stuff_classes))

# Epoch-based loop: an epoch is len(ClassUniformDataset) draws (the number of training images);
# the sampler hands out a fresh block of draw ids every epoch.
train_dataloader = dict(sampler=dict(infinite=False))

default_hooks = dict(checkpoint=dict(by_epoch=True, interval=30))
log_processor = dict(by_epoch=True)

# The paper fixes the controllable sources of randomness (Sec. 4.1): every variant sees the same
# sequence of class-uniform draws and starts from the same initial weights.
randomness = dict(seed=0)
