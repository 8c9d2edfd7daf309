# The Seamless Scene Segmentation baseline (Porzi et al., CVPR 2019), as compared in Sec. 4.3
# ("the unmodified network from [23]"): the paper's network (seamless_hrnetv2-w48_fpn_dlv3plus.py,
# whose FPN, RPN, RoI heads, fusion, ABN and class counts it shares) with Seamless' own body and
# semantic head:
#   body      ResNet-50 (ImageNet weights; stem + first stage frozen, as seamseg num_frozen 2)
#   semantic  "Mini-DL" head on the FPN levels (strides 4-32), pooling 64 x 64, OHEM loss
_base_ = './seamless_hrnetv2-w48_fpn_dlv3plus.py'

model = dict(
    semantic_head_in='neck',
    backbone=dict(
        _delete_=True,
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=1,
        norm_cfg={{_base_.body_norm_cfg}},
        norm_eval=False,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=dict(in_channels=[256, 512, 1024, 2048]),
    semantic_head=dict(
        _delete_=True,
        type='MiniDLSemanticHead',
        in_channels={{_base_.fpn_channels}},
        channels=128,
        start_level=0,
        num_levels=4,
        dilation=6,
        pooling_size=(64, 64),
        norm_cfg={{_base_.abn_cfg}},
        seg_rescale_factor=1.0,
        loss_seg={{_base_.model.semantic_head.loss_seg}}))
