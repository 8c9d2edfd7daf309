# Mapillary Vistas v1.2 panoptic (65 classes: 37 things, 28 stuff; paper Sec. 4, App. D), trained
# on 1024x1024 crops with class-uniform sampling and tested on full images. Prepare it with:
#   python tools/dataset_converters/mapillary_vistas_panoptic.py \
#       --root /path/to/mapillary_vistas --out data/mapillary_vistas
# The class counts are set with the model (configs/seamless*/..._mapillary-vistas.py): variables
# named num_things_classes / num_stuff_classes here would clash with the model bases' own.
dataset_type = 'MapillaryVistasPanopticDataset'
data_root = 'data/mapillary_vistas/'
backend_args = None

s0 = 2400                   # shortest side after the initial rescale (paper: s_0; FULL runs: 1344)
scale_range = (0.8, 1.25)   # scale augmentation around s_0 for stuff draws (paper: r_st)
crop_size = (1024, 1024)    # (h, w) of the training crops

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
# Inference on full images, rescaled so that the shortest side is s0 (loose long-side bound).
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(s0 * 8, s0), keep_ratio=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor')),
]

# ClassUniformSampler(infinite=True) suits iteration-based loops; the epoch-based paper configs
# switch it to infinite=False (an epoch = len(ClassUniformDataset) = number of training images).
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
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
