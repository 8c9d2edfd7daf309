# Mapillary Vistas, CROP + ISUS row of Table 1: the CROP config with instance scale-uniform
# sampling (Sec. 2.1): when a thing class is drawn, the drawn instance is rescaled onto a uniformly
# drawn pyramid level by the model's own level rule (its RoI extractor's finest_scale and
# featmap_strides); sigma is clamped to r_th = [0.25, 4] (App. D). Stuff draws keep
# sigma ~ U(r_st). Nothing else differs.
_base_ = './seamless_hrnetv2-w48_crop-1024_8xb4-300e_mapillary-vistas.py'

train_pipeline = [
    dict(step, isus=True, level_rule=_base_.model.roi_head.bbox_roi_extractor)
    if step.type == 'ISUSResize' else step for step in _base_.train_pipeline]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))
