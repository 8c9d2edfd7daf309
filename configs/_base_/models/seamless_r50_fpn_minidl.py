# The Seamless Scene Segmentation baseline (Porzi et al., CVPR 2019), as compared in Sec. 4.3:
#   body      ResNet-50 (ImageNet weights)
#   instance  FPN -> RPN -> RoI box head + mask head (Mask R-CNN)
#   semantic  "Mini-DL" head on the FPN levels (strides 4..32)
#   fusion    Seamless-style panoptic fusion
# with synchronized ABN after the body. Built on mmdet's Mask R-CNN base (ResNet-50 + FPN).
#
# Class counts are stated once, on the model (see seamless_hrnetv2-w48_fpn_dlv3plus.py).
_base_ = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'

# See seamless_hrnetv2-w48_fpn_dlv3plus.py: SyncABN equals ABN on CPU / in one process.
norm_type = 'SyncABN'
abn_cfg = dict(type=norm_type, requires_grad=True)
# mmdet's ResNet applies its own ReLUs (after norms and residual sums): no activation in its ABNs.
body_norm_cfg = dict(type=norm_type, activation='identity', requires_grad=True)

fpn_channels = 256

model = dict(
    type='SeamlessPanopticSegmentor',
    num_things_classes=37,   # Mapillary Vistas v1.2: 37 thing, 28 stuff classes
    num_stuff_classes=28,
    semantic_head_in='neck',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32,
        pad_mask=True,
        mask_pad_value=0,
        pad_seg=True,
        seg_pad_value=255),
    backbone=dict(norm_cfg=body_norm_cfg, norm_eval=False),
    neck=dict(
        out_channels=fpn_channels,
        add_extra_convs='on_input',
        norm_cfg=abn_cfg,
        act_cfg=None),
    # Crop-aware heads with SmoothL1Loss equal mmdet's; CABB variants switch loss_bbox to CABBLoss.
    rpn_head=dict(
        type='CropAwareRPNHead',
        loss_bbox=dict(type='SmoothL1Loss', beta=1.0 / 9.0, loss_weight=1.0)),
    roi_head=dict(
        type='StandardRoIHead',
        bbox_roi_extractor=dict(finest_scale=56),
        bbox_head=dict(
            type='CropAwareShared2FCBBoxHead',
            num_classes=None,  # the model's num_things_classes
            loss_bbox=dict(type='SmoothL1Loss', beta=1.0, loss_weight=1.0)),
        mask_head=dict(num_classes=None, norm_cfg=abn_cfg)),
    semantic_head=dict(
        type='MiniDLSemanticHead',
        in_channels=fpn_channels,
        channels=128,
        start_level=0,
        num_levels=4,
        dilation=6,
        pooling_size=(64, 64),
        norm_cfg=abn_cfg,
        seg_rescale_factor=1.0,
        loss_seg=dict(
            type='CrossEntropyLoss',
            ignore_index=255,
            avg_non_ignore=True,
            loss_weight=1.0)),
    panoptic_fusion_head=dict(type='SeamlessFusionHead'),
    # The samplers of both stages attach each positive's truncation flags (pos_gt_truncated); they
    # draw exactly like mmdet's RandomSampler.
    train_cfg=dict(
        rpn=dict(sampler=dict(type='TruncationAwareRandomSampler')),
        rcnn=dict(sampler=dict(type='TruncationAwareRandomSampler'))),
    test_cfg=dict(
        panoptic=dict(score_thr=0.5, mask_overlap=0.5, stuff_area_limit=4096)))
