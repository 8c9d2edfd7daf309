# CPU demo: slim PanopticFPN trained on 256x256 crops of the synthetic 1024x2048 dataset
# (images rescaled to s0=512 with scale augmentation), 2 crops per iteration, 2k iterations.
_base_ = [
    '../_base_/models/panoptic-fpn_r18-slim.py',
    '../_base_/datasets/synthetic_panoptic.py',
    '../_base_/schedules/sgd_linear-warmup-decay_2k.py',
    '../_base_/default_runtime.py',
]

# mmdet's NumClassCheckHook does not know panoptic datasets.
custom_hooks = []
