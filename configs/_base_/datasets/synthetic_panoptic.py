# The embedded synthetic high-resolution panoptic dataset (1024x2048 images): 256x256 crops of
# images rescaled to s_0 = 512, r_st = [0.5, 2], 2 crops per iteration; full-image inference at s_0.
# Generate it with: python tools/dataset_converters/make_synthetic_panoptic.py --out data/synthetic
_base_ = './panoptic_crop_cus.py'

dataset_type = 'SyntheticPanopticDataset'
data_root = 'data/synthetic/'
s0 = 512  # shortest side after the initial rescale (paper: s_0)

train_pipeline = [
    dict(step, short_side=s0, stuff_range=(0.5, 2.0))  # r_st
    if step.type == 'ISUSResize' else dict(step, crop_size=(256, 256))
    if step.type == 'TruncationAwareRandomCrop' else step
    for step in _base_.train_pipeline
]
test_pipeline = [
    dict(step, scale=(s0 * 8, s0)) if step.type == 'Resize' else step
    for step in _base_.test_pipeline
]
train_dataloader = dict(batch_size=2, num_workers=2, dataset=dict(dataset=dict(
    type=dataset_type, data_root=data_root, pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(
    type=dataset_type, data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/panoptic_val.json',
                     seg_prefix=data_root + 'annotations/panoptic_val/')
test_evaluator = val_evaluator
