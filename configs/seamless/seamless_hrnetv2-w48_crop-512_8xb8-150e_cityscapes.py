# Cityscapes, CROP row of Table 1: the paper's network (HRNetV2-W48 body, FPN + Mask R-CNN,
# DeepLabV3+, Seamless fusion, synchronized ABN) with the standard box loss, fine-tuned from its
# Mapillary Vistas counterpart on 512x512 crops of images rescaled to s0 = 1024 with class-uniform
# sampling (CUS, r_st = [0.5, 2]) and horizontal flips; 8 GPUs x 8 crops, lr_0 = 0.04, 150 epochs
# (App. D); inference on full images rescaled to s0. The Cityscapes model settings (class counts)
# live here only: the other Cityscapes variants of this network inherit them.
_base_ = [
    '../_base_/models/seamless_hrnetv2-w48_fpn_dlv3plus.py',
    '../_base_/datasets/cityscapes_panoptic.py',
    '../_base_/schedules/sgd_linear-warmup-decay_150e.py',
    '../_base_/default_runtime.py',
]

# Cityscapes: 8 thing and 11 stuff classes. Every field that uses the counts is set again here
# (mmengine resolves the variables inside the model base).
num_things_classes = 8
num_stuff_classes = 11
model = dict(
    roi_head=dict(
        bbox_head=dict(num_classes=num_things_classes),
        mask_head=dict(num_classes=num_things_classes)),
    # ASPP image pooling over one training crop's window (512 px / stride 32 = 16 cells)
    # so full-image inference pools the context a crop saw; dilations halved from (1, 6, 12, 18),
    # which suit the 32x32 cells of a 1024 px crop, to the 16x16 cells of a 512 px crop.
    semantic_head=dict(
        num_things_classes=num_things_classes,
        num_stuff_classes=num_stuff_classes,
        pooling_size=(16, 16),
        decode_head=dict(dilations=(1, 3, 6, 9))),
    panoptic_fusion_head=dict(
        num_things_classes=num_things_classes,
        num_stuff_classes=num_stuff_classes))

# Epoch-based loop: an epoch is len(ClassUniformDataset) draws (the number of training images);
# the sampler hands out a fresh block of draw ids every epoch.
train_dataloader = dict(sampler=dict(infinite=False))

default_hooks = dict(checkpoint=dict(by_epoch=True, interval=15))
log_processor = dict(by_epoch=True)

# The paper fixes the controllable sources of randomness (Sec. 4.1): every variant sees the same
# sequence of class-uniform draws and starts from the same initial weights.
randomness = dict(seed=0)

# Initialisation: the Mapillary Vistas CROP model (train it first; set the path to your
# checkpoint). Its class-specific layers (box classifier/regressor, mask logits, semantic logits)
# do not match the Cityscapes classes: they are skipped with a warning and keep their fresh
# initialisation.
load_from = 'work_dirs/seamless_hrnetv2-w48_crop-1024_8xb4-300e_mapillary-vistas/epoch_300.pth'  # noqa: E501
