# FULL at slim width: the CROP config trained on whole images (rescaled to s0 with scale
# augmentation, no crop, so no truncation), one image per iteration as in the paper's FULL runs.
_base_ = './seamless_hrnet-slim_crop-256_1200i_synthetic.py'

train_pipeline = [step for step in _base_.train_pipeline
                  if step.type != 'TruncationAwareRandomCrop']
train_dataloader = dict(
    batch_size=1, dataset=dict(dataset=dict(pipeline=train_pipeline)))
