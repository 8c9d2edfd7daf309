# The embedded synthetic high-resolution panoptic dataset (1024x2048 images), trained on crops
# with class-uniform sampling.
# Generate it with: python tools/dataset_converters/make_synthetic_panoptic.py --out data/synthetic
dataset_type = 'SyntheticPanopticDataset'
data_root = 'data/synthetic/'
backend_args = None

s0 = 512                    # shortest image side after the initial rescale (paper: s_0)
scale_range = (0.5, 2.0)    # scale augmentation around s_0 for stuff draws (paper: r_st)
crop_size = (256, 256)      # (h, w) of the training crops

# CROP training with class-uniform sampling (CUS, Sec. 2.1): the ClassUniformDataset wrapper draws a
# class, an image containing it (and, for things, an instance); ISUSResize rescales to s0 times a
# random scale (isus=False: sigma ~ U(scale_range)); the crop is placed where the drawn class is
# visible and records which sides of every box it cut (gt_bboxes_truncated).
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadPanopticAnnotationsLean', backend_args=backend_args),
    dict(type='ISUSResize', short_side=s0, stuff_range=scale_range,
         isus=False),
    dict(type='PanopticRandomFlip', prob=0.5),
    dict(type='TruncationAwareRandomCrop', crop_size=crop_size),
    dict(type='InstMapToMasks'),
    dict(type='PackPanopticInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(s0 * 8, s0), keep_ratio=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor')),
]

train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='ClassUniformSampler', infinite=True),
    dataset=dict(
        type='ClassUniformDataset',
        dataset=dict(
            type=dataset_type,
            data_root=data_root,
            ann_file='annotations/panoptic_train.json',
            data_prefix=dict(img='images/train/',
                             seg='annotations/panoptic_train/'),
            filter_cfg=dict(filter_empty_gt=False, min_size=32),
            pipeline=train_pipeline,
            backend_args=backend_args)))
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
