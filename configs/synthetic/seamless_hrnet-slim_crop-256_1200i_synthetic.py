# CPU demo, CROP row of Table 1 at slim width: the paper's network (HRNet body, FPN + Mask R-CNN,
# DeepLabV3+, Seamless fusion, ABN) slimmed for CPU, trained on 256x256 crops of the synthetic
# 1024x2048 images (rescaled to s0=512, class-uniform sampling), 2 crops per iteration, 1200
# iterations; inference on full images (rescaled to s0).
_base_ = [
    '../_base_/models/seamless_hrnet-slim_fpn_dlv3plus.py',
    '../_base_/datasets/synthetic_panoptic.py',
    '../_base_/schedules/sgd_linear-warmup-decay_1200i.py',
    '../_base_/default_runtime.py',
]

# A checkpoint every 200 iterations (~2 min on 2 cores): a killed run loses little.
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=200))

# The ASPP runs on the 1/32 branch: a 256 px crop is only 8x8 cells there. Its rates are scaled
# to that size, ceil(r * 8 / 32) of Panoptic-DeepLab's (3, 6, 9), which suit 1024 px crops (at
# 8x8 cells their taps would hit only padding during training and real features at full-image
# inference), and its image pooling averages over one crop's window (8x8 cells) instead of the
# whole image, so full-image inference sees the context training saw.
model = dict(semantic_head=dict(pooling_size=(8, 8), dilations=(1, 2, 3)))
