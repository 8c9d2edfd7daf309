# The paper's network (Sec. 4.1, Fig. 4): Seamless Scene Segmentation with the paper's body and
# semantic head, at the paper's widths:
#   body      HRNetV2-W48 (ImageNet weights)
#   instance  FPN over the four HRNet branches + 2 extra levels (strides 4-128) -> RPN ->
#             RoI box head + mask head (Mask R-CNN), with Seamless' Mapillary Vistas settings
#   semantic  DeepLabV3+ connected to the body as in Panoptic-DeepLab: ASPP on the 1/32 branch,
#             a decoder fusing projected skips of the 1/16, 1/8 and 1/4 branches; OHEM loss
#   fusion    Seamless panoptic fusion
# with synchronized InPlace-ABN (BN + LeakyReLU 0.01 in one layer) throughout. Every setting and
# its source (paper, mapillary/seamseg `scripts/configurations/vistas_r50.ini` over
# `seamseg/config/defaults/panoptic.ini`, Panoptic-DeepLab) is listed in docs/models.md.
#
# Class counts are stated once, on the model (`num_things_classes`, `num_stuff_classes`): the
# segmentor fills them into the box, mask, semantic and fusion heads.
_base_ = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'

# 'SyncABN' synchronizes batch statistics when training distributed on GPUs and equals 'ABN'
# on CPU / in a single process, so no config change is needed between the two.
norm_type = 'SyncABN'
# ABN everywhere outside the body: convs / FCs take no bias and no separate activation.
abn_cfg = dict(type=norm_type, requires_grad=True)
# The body (mmdet's HRNet / ResNet) applies its own ReLUs after its norms and residual sums, so its
# ABNs run without activation: (synchronized) BN, as its ImageNet weights expect.
body_norm_cfg = dict(type=norm_type, activation='identity', requires_grad=True)

hrnet_widths = (48, 96, 192, 384)
fpn_channels = 256
# The RoI heads read the 4 finest FPN levels; the RPN all 6.
roi_strides = [4, 8, 16, 32]
# Proposals: one class-agnostic NMS over all levels (split_thr above any candidate count keeps it
# joint: mmcv runs one NMS per level beyond it).
rpn_nms = dict(
    type='nms', iou_threshold=0.7, class_agnostic=True, split_thr=1000000)

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
    # Seamless' FPN: levels at strides 4-32 from the body, then two stride-2 3x3 convs (on the
    # 1/32 body branch, then on that output) for strides 64 and 128; ABN on every conv, nearest
    # top-down upsampling.
    neck=dict(
        type='FPN',
        in_channels=list(hrnet_widths),
        out_channels=fpn_channels,
        num_outs=6,
        add_extra_convs='on_input',
        relu_before_extra_convs=False,
        norm_cfg=abn_cfg,
        act_cfg=None,
        upsample_cfg=dict(mode='nearest')),
    # Crop-aware heads hand the truncation flags of each positive (from the sampler) to the box loss.
    # With SmoothL1Loss (Eq. 1) they train like mmdet's RPNHead / Shared2FCBBoxHead; the CABB
    # variants only switch loss_bbox to CABBLoss.
    rpn_head=dict(
        type='CropAwareRPNHead',
        in_channels=fpn_channels,
        feat_channels=fpn_channels,
        norm_cfg=abn_cfg,
        # seamseg: one anchor size per level, 2 x stride (anchor_scale 2), ratios h/w
        # (0.2, 0.5, 1, 2, 5), centred in their cell.
        anchor_generator=dict(
            type='AnchorGenerator',
            strides=[4, 8, 16, 32, 64, 128],
            ratios=[0.2, 0.5, 1.0, 2.0, 5.0],
            scales=[2],
            center_offset=0.5),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[0.0, 0.0, 0.0, 0.0],
            target_stds=[1.0, 1.0, 1.0, 1.0]),
        loss_cls=dict(
            type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
        # seamseg: smooth L1 with sigma 3, i.e. beta = 1 / sigma^2
        loss_bbox=dict(type='SmoothL1Loss', beta=1.0 / 9.0, loss_weight=1.0)),
    roi_head=dict(
        type='StandardRoIHead',
        # seamseg pools 14x14 centre samples (roi_size) from the level given by the canonical
        # scale 224 at level 2 (= finest_scale 56); the box branch averages them 2x2 to 7x7,
        # exactly RoIAlign(7, sampling_ratio=2); aligned=False is seamseg's sampling grid.
        bbox_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(
                type='RoIAlign', output_size=7, sampling_ratio=2,
                aligned=False),
            out_channels=fpn_channels,
            featmap_strides=roi_strides,
            finest_scale=56),
        bbox_head=dict(
            type='CropAwareShared2FCBBoxHead',
            in_channels=fpn_channels,
            fc_out_channels=1024,
            roi_feat_size=7,
            num_classes=None,  # the model's num_things_classes
            fc_norm_cfg=abn_cfg,
            reg_class_agnostic=False,
            # seamseg bbx_reg_weights (10, 10, 5, 5)
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[0.0, 0.0, 0.0, 0.0],
                target_stds=[0.1, 0.1, 0.2, 0.2]),
            loss_cls=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
            # seamseg: smooth L1 with sigma 1
            loss_bbox=dict(type='SmoothL1Loss', beta=1.0, loss_weight=1.0)),
        mask_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(
                type='RoIAlign', output_size=14, sampling_ratio=1,
                aligned=False),
            out_channels=fpn_channels,
            featmap_strides=roi_strides,
            finest_scale=56),
        mask_head=dict(
            type='ABNFCNMaskHead',
            num_convs=4,
            in_channels=fpn_channels,
            conv_out_channels=fpn_channels,
            num_classes=None,  # the model's num_things_classes
            norm_cfg=abn_cfg,
            loss_mask=dict(
                type='CrossEntropyLoss', use_mask=True, loss_weight=1.0))),
    # Panoptic-DeepLab's semantic branch on HRNet: ASPP (rates 3, 6, 9; image pooling, global
    # unless a crop config sets pooling_size = crop / 32) on the 1/32 branch; skips of the 1/4,
    # 1/8, 1/16 branches projected to 32, 64, 128 channels; one depthwise-separable 5x5 fuse per
    # stage and before the classifier; all thing and stuff classes at 1/4 resolution.
    semantic_head=dict(
        type='PanopticDeepLabSemanticHead',
        in_channels=list(hrnet_widths),
        project_channels=(32, 64, 128),
        decoder_channels=256,
        aspp_channels=256,
        head_channels=256,
        dilations=(3, 6, 9),
        pooling_size=None,
        aspp_dropout_ratio=0.1,
        norm_cfg=abn_cfg,
        act_cfg=None,
        # Seamless' hard pixel mining: the hardest 25 % of each image's pixels
        loss_seg=dict(
            type='OHEMCrossEntropyLoss', ratio=0.25, ignore_index=255,
            loss_weight=1.0)),
    panoptic_fusion_head=dict(type='SeamlessFusionHead'),
    train_cfg=dict(
        rpn=dict(
            # pos >= 0.7, neg < 0.3; a box's best anchor is positive (if IoU > 0); anchors
            # mostly on crowd regions are ignored (seamseg void_threshold 0.7, here as the IoF
            # of the crowd boxes)
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.7,
                neg_iou_thr=0.3,
                min_pos_iou=1e-6,
                match_low_quality=True,
                gt_max_assign_all=False,
                ignore_iof_thr=0.7),
            # The samplers of both stages attach each positive's truncation flags
            # (pos_gt_truncated); they draw exactly like mmdet's RandomSampler.
            sampler=dict(
                type='TruncationAwareRandomSampler',
                num=256,
                pos_fraction=0.5,
                neg_pos_ub=-1,
                add_gt_as_proposals=False),
            allowed_border=0,
            pos_weight=-1,
            debug=False),
        # seamseg takes the top 12000 of all levels together and runs one NMS over them; mmdet
        # takes nms_pre per level (a superset), then rpn_nms; no minimum box size.
        rpn_proposal=dict(
            nms_pre=12000,
            max_per_img=2000,
            nms=rpn_nms,
            min_bbox_size=-1),
        rcnn=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.5,
                neg_iou_thr=0.5,
                min_pos_iou=0.5,
                match_low_quality=False,
                ignore_iof_thr=0.7),
            sampler=dict(
                type='TruncationAwareRandomSampler',
                num=512,
                pos_fraction=0.25,
                neg_pos_ub=-1,
                add_gt_as_proposals=True),
            mask_size=28,
            pos_weight=-1,
            debug=False)),
    test_cfg=dict(
        rpn=dict(
            nms_pre=6000,
            max_per_img=1000,
            nms=rpn_nms,
            min_bbox_size=-1),
        rcnn=dict(
            score_thr=0.05,
            nms=dict(type='nms', iou_threshold=0.5),
            max_per_img=256,
            mask_thr_binary=0.5),
        # Instances scoring above score_thr are pasted by score; one losing more than
        # mask_overlap of its mask is dropped; stuff segments below stuff_area_limit pixels
        # become void. The RoI head keeps its low threshold: pred_instances serve mAP.
        panoptic=dict(score_thr=0.5, mask_overlap=0.5, stuff_area_limit=4096)))
