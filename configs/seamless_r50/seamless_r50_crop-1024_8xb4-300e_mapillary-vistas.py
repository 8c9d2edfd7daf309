# Mapillary Vistas, "Seamless + CROP" row of Table 1 (Sec. 4.3): the Seamless Scene Segmentation
# baseline (ResNet-50 body, FPN + Mask R-CNN, Mini-DL semantic head on the FPN, Seamless fusion,
# synchronized ABN; Mapillary Vistas class counts in its model base) with the standard box loss,
# trained like the paper's network: 1024x1024 crops of images rescaled to s0 = 2400 with
# class-uniform sampling (CUS, r_st = [0.8, 1.25]) and horizontal flips; 8 GPUs x 4 crops,
# lr_0 = 0.04, 300 epochs (App. D); inference on full images rescaled to s0.
_base_ = [
    '../_base_/models/seamless_r50_fpn_minidl.py',
    '../_base_/datasets/mapillary_vistas_panoptic.py',
    '../_base_/schedules/sgd_linear-warmup-decay_epoch-based.py',
]

max_epochs = 300
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=0.04))
auto_scale_lr = dict(base_batch_size=32)   # 8 GPUs x 4 crops
