# The paper's network (Sec. 4.1, Fig. 4), at the paper's widths:
#   body      HRNetV2-W48 (ImageNet weights)
#   instance  FPN over the four HRNet branches -> RPN -> RoI box head + mask head (Mask R-CNN)
#   semantic  DeepLabV3+ on the body: ASPP on the 1/32 branch, low-level feature = the 1/4 branch
#   fusion    Seamless-style panoptic fusion
# with synchronized ABN (BatchNorm + LeakyReLU(0.01) in one layer) after the body.
# Built on mmdet's Mask R-CNN base: RPN / RoI head types, assigners, samplers and test settings
# come from there; the CABB variants swap the RPN / box head types.
#
# Class counts are stated once, on the model (`num_things_classes`, `num_stuff_classes`): the
# segmentor fills them into the box, mask, semantic and fusion heads.
_base_ = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'

# 'SyncABN' synchronizes batch statistics when training distributed on GPUs and equals 'ABN'
# on CPU / in a single process, so no config change is needed between the two.
norm_type = 'SyncABN'
# Norms inside the FPN and the heads: BN + LeakyReLU; their convs take act_cfg=None.
abn_cfg = dict(type=norm_type, requires_grad=True)
# The body (mmdet's HRNet) applies its own ReLUs after its norms and after its residual sums,
# so its ABNs run without activation: (synchronized) BN, as its ImageNet weights expect.
body_norm_cfg = dict(type=norm_type, activation='identity', requires_grad=True)

hrnet_widths = (48, 96, 192, 384)
fpn_channels = 256

model = dict(
    type='SeamlessPanopticSegmentor',
    num_things_classes=37,   # Mapillary Vistas v1.2: 37 thing, 28 stuff classes
    num_stuff_classes=28,
    semantic_head_in='body',
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
    backbone=dict(
        # The base's ResNet-50 arguments (depth, num_stages, style, ...) do not apply to
        # HRNet: the whole backbone dict is replaced.
        _delete_=True,
        type='HRNet',
        extra=dict(
            stage1=dict(
                num_modules=1,
                num_branches=1,
                block='BOTTLENECK',
                num_blocks=(4, ),
                num_channels=(64, )),
            stage2=dict(
                num_modules=1,
                num_branches=2,
                block='BASIC',
                num_blocks=(4, 4),
                num_channels=hrnet_widths[:2]),
            stage3=dict(
                num_modules=4,
                num_branches=3,
                block='BASIC',
                num_blocks=(4, 4, 4),
                num_channels=hrnet_widths[:3]),
            stage4=dict(
                num_modules=3,
                num_branches=4,
                block='BASIC',
                num_blocks=(4, 4, 4, 4),
                num_channels=hrnet_widths)),
        norm_cfg=body_norm_cfg,
        norm_eval=False,
        init_cfg=dict(
            type='Pretrained', checkpoint='open-mmlab://msra/hrnetv2_w48')),
    # Levels at strides 4, 8, 16, 32 from the branches, plus a stride-2 conv on the 1/32 branch
    # (stride 64) for the largest anchors.
    neck=dict(
        type='FPN',
        in_channels=list(hrnet_widths),
        out_channels=fpn_channels,
        num_outs=5,
        add_extra_convs='on_input',
        norm_cfg=abn_cfg,
        act_cfg=None),
    # Crop-aware heads hand the truncation flags of each positive (from the sampler) to the box loss.
    # With SmoothL1Loss (Eq. 1) they equal mmdet's RPNHead / StandardRoIHead exactly; the CABB
    # variants only switch loss_bbox to CABBLoss.
    rpn_head=dict(
        type='CropAwareRPNHead',
        in_channels=fpn_channels,
        feat_channels=fpn_channels,
        loss_bbox=dict(type='SmoothL1Loss', beta=1.0 / 9.0, loss_weight=1.0)),
    roi_head=dict(
        type='StandardRoIHead',
        bbox_roi_extractor=dict(out_channels=fpn_channels, finest_scale=56),
        bbox_head=dict(
            type='CropAwareShared2FCBBoxHead',
            in_channels=fpn_channels,
            num_classes=None,  # the model's num_things_classes
            loss_bbox=dict(type='SmoothL1Loss', beta=1.0, loss_weight=1.0)),
        mask_roi_extractor=dict(out_channels=fpn_channels),
        mask_head=dict(
            in_channels=fpn_channels,
            num_classes=None,  # the model's num_things_classes
            norm_cfg=abn_cfg)),
    semantic_head=dict(
        type='DeepLabV3PlusSemanticHead',
        decode_head=dict(
            type='mmseg.DepthwiseSeparableASPPHead',
            in_channels=hrnet_widths[3],
            in_index=3,
            channels=256,
            dilations=(1, 6, 12, 18),
            c1_in_channels=hrnet_widths[0],
            c1_channels=48,
            dropout_ratio=0.1,
            norm_cfg=abn_cfg,
            act_cfg=None,
            align_corners=False),
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
        # Instances scoring above score_thr are pasted by score; one losing more than
        # mask_overlap of its mask is dropped; stuff segments below stuff_area_limit pixels
        # become void. The RoI head keeps its low threshold: pred_instances serve mAP.
        panoptic=dict(score_thr=0.5, mask_overlap=0.5, stuff_area_limit=4096)))
