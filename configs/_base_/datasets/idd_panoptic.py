# IDD panoptic, level-3 ids (26 classes: 9 things, 17 stuff; paper Sec. 4, App. D): 512x512 crops
# of images rescaled to s_0 = 1080, r_st = [0.5, 2], 8 crops per GPU; full-image inference at s_0.
# Prepare it with:
#   python tools/dataset_converters/idd_panoptic.py --root /path/to/idd --out data/idd
# The class counts are set with the model (configs/seamless/..._idd.py).
_base_ = './panoptic_crop_cus.py'

dataset_type = 'IDDPanopticDataset'
data_root = 'data/idd/'
s0 = 1080  # shortest side after the initial rescale (paper: s_0)

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
