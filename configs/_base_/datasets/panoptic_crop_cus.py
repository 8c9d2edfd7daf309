# CROP training with class-uniform sampling (CUS, Sec. 2.1) and full-image inference, shared by
# every COCO-panoptic dataset of the toolbox; None marks a dataset's own value. A dataset base
# inherits this file and passes only its values to `fill_crop_cus_base`
# (mmpanoptic_cabb/utils/dataset_config.py), which sets them in the steps below, found by type:
# the dataset type and root, s_0 (ISUSResize.short_side and the test Resize), r_st
# (ISUSResize.stuff_range), the crop size, the batch and, where they differ from here, the
# sampler and the workers. `python tools/misc/print_config.py CONFIG` shows the result.
#
# - ClassUniformDataset draws a class, an image containing it (and, for a thing class, one of its
#   instances) for every draw id that ClassUniformSampler hands out;
# - ISUSResize rescales to s_0 times sigma, sigma ~ U(r_st) (isus=False: CUS scale augmentation;
#   the ISUS variants switch isus on and give it the model's level rule; r_th = thing_range);
#   lazy=True defers the pixel resize: the flip flips the resized frame and the crop resizes only
#   its window (same draws, maps, boxes and flags as resizing the whole image; per-sample cost no
#   longer grows with sigma^2); without a crop (FULL) InstMapToMasks resizes the whole image;
# - TruncationAwareRandomCrop places the crop where the drawn class is visible and records which
#   sides of every box it cut (gt_truncated);
# - inference on full images, rescaled so that the shortest side is s_0.
backend_args = None

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadPanopticAnnotationsLean', backend_args=backend_args),
    dict(type='ISUSResize', short_side=None, stuff_range=None,
         thing_range=(0.25, 4.0), isus=False, lazy=True),
    dict(type='PanopticRandomFlip', prob=0.5),
    dict(type='TruncationAwareRandomCrop', crop_size=None),
    dict(type='InstMapToMasks'),
    dict(type='PackPanopticInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=None, keep_ratio=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor')),
]

# ClassUniformSampler(infinite=True) suits iteration-based loops; the dataset bases of the
# epoch-based paper configs switch it to infinite=False (`epoch_based=True`; an epoch =
# len(ClassUniformDataset) = number of training images).
train_dataloader = dict(
    batch_size=None,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='ClassUniformSampler', infinite=True),
    dataset=dict(
        type='ClassUniformDataset',
        dataset=dict(
            type=None,
            data_root=None,
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
        type=None,
        data_root=None,
        ann_file='annotations/panoptic_val.json',
        data_prefix=dict(img='images/val/', seg='annotations/panoptic_val/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader

# mAP over up to 256 detections per image, as the RoI head keeps (Seamless' max_predictions).
val_evaluator = dict(
    type='PanopticQualityMetric',
    ann_file=None,
    seg_prefix=None,
    max_dets=256,
    backend_args=backend_args)
test_evaluator = val_evaluator
