# IDD panoptic, level-3 ids (26 classes, 9 things; paper Sec. 4, App. D),
# trained on 512x512 crops and tested on full images. Prepare it with:
#   python tools/dataset_converters/idd_panoptic.py \
#       --root /path/to/idd --out data/idd
dataset_type = 'IDDPanopticDataset'
data_root = 'data/idd/'
backend_args = None
num_things_classes = 9
num_stuff_classes = 17

s0 = 1080                   # shortest side after the initial rescale (s_0)
scale_range = (0.5, 2.0)    # "stuff" scale augmentation range (paper: r_st)
crop_size = (512, 512)      # (h, w) of the training crops

# Placeholder structure with mmdet transforms; CUS/ISUS sampling and the
# truncation-aware crop replace RandomResize/RandomCrop in the paper's configs.
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadPanopticAnnotations', backend_args=backend_args),
    # keep_ratio with a loose long-side bound: short side = s0 * ratio.
    dict(type='RandomResize', scale=(s0 * 8, s0), ratio_range=scale_range,
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, crop_type='absolute',
         recompute_bbox=True, allow_negative_crop=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(s0 * 8, s0), keep_ratio=True),
    dict(type='LoadPanopticAnnotations', backend_args=backend_args),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor')),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/panoptic_train.json',
        data_prefix=dict(img='images/train/',
                         seg='annotations/panoptic_train/'),
        filter_cfg=dict(filter_empty_gt=False, min_size=32),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/panoptic_val.json',
        data_prefix=dict(img='images/val/', seg='annotations/panoptic_val/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader

val_evaluator = dict(
    type='PanopticQualityMetric',
    ann_file=data_root + 'annotations/panoptic_val.json',
    seg_prefix=data_root + 'annotations/panoptic_val/',
    backend_args=backend_args)
test_evaluator = val_evaluator
