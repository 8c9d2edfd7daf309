# Mapillary Vistas v1.2 panoptic (65 classes: 37 things, 28 stuff; paper Sec. 4, App. D): 1024x1024
# crops of images rescaled to s_0 = 2400, r_st = [0.8, 1.25], 4 crops per GPU; full-image
# inference at s_0. Prepare it with:
#   python tools/dataset_converters/mapillary_vistas_panoptic.py \
#       --root /path/to/mapillary_vistas --out data/mapillary_vistas
# The class counts are set with the model (configs/seamless*/..._mapillary-vistas.py).
_base_ = './panoptic_crop_cus.py'

dataset_type = 'MapillaryVistasPanopticDataset'
data_root = 'data/mapillary_vistas/'
s0 = 2400  # shortest side after the initial rescale (paper: s_0; FULL runs: 1344)

train_pipeline = [
    dict(step, short_side=s0, stuff_range=(0.8, 1.25))  # r_st
    if step.type == 'ISUSResize' else dict(step, crop_size=(1024, 1024))
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
    batch_size=4, sampler=dict(infinite=False), dataset=dict(dataset=dict(
        type=dataset_type, data_root=data_root, pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(
    type=dataset_type, data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/panoptic_val.json',
                     seg_prefix=data_root + 'annotations/panoptic_val/')
test_evaluator = val_evaluator
