# Cityscapes panoptic (19 classes: 8 things, 11 stuff; paper Sec. 4, App. D): 512x512 crops of
# images rescaled to s_0 = 1024, r_st = [0.5, 2], 8 crops per GPU; full-image inference at s_0.
# Prepare it with:
#   python tools/dataset_converters/cityscapes_panoptic.py \
#       --root /path/to/cityscapes --out data/cityscapes
# The class counts are set with the model (configs/seamless/..._cityscapes.py).
_base_ = './panoptic_crop_cus.py'

dataset_type = 'CityscapesPanopticDataset'
data_root = 'data/cityscapes/'
s0 = 1024  # shortest side after the initial rescale (paper: s_0)

train_pipeline = [
    dict(step, short_side=s0, stuff_range=(0.5, 2.0))  # r_st
    if step.type == 'ISUSResize' else dict(step, crop_size=(512, 512))
    if step.type == 'TruncationAwareRandomCrop' else step
    for step in _base_.train_pipeline
]
test_pipeline = [
    dict(step, scale=(s0 * 8, s0)) if step.type == 'Resize' else step
    for step in _base_.test_pipeline
]
# Epoch-based paper schedules: the sampler hands out a fresh block of draw ids every epoch (an
# epoch = len(ClassUniformDataset) draws = the number of training images).
train_dataloader = dict(
    batch_size=8, sampler=dict(infinite=False), dataset=dict(dataset=dict(
        type=dataset_type, data_root=data_root, pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(
    type=dataset_type, data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/panoptic_val.json',
                     seg_prefix=data_root + 'annotations/panoptic_val/')
test_evaluator = val_evaluator
