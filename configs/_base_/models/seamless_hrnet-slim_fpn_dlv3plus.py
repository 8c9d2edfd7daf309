# The paper's network slimmed for CPU: every block and setting of seamless_hrnetv2-w48_fpn_dlv3plus.py
# (HRNet body, 6-level FPN + Seamless' RPN / RoI settings, Panoptic-DeepLab's DeepLabV3+ decoder on
# the body with OHEM, Seamless fusion, ABN throughout), changed only in size: a small HRNet (one
# module and one block per stage, branch widths 8/16/32/64), 32 channels in the FPN, the instance
# heads and the semantic decoder, 128-wide box FCs, 2 mask convs; and in the CPU budget: 128
# sampled anchors / RoIs, 1000 / 300 proposals. Trained from scratch. Classes of the embedded
# synthetic dataset (3 thing, 4 stuff). SyncABN runs as plain ABN on CPU.
_base_ = './seamless_hrnetv2-w48_fpn_dlv3plus.py'

hrnet_widths = (8, 16, 32, 64)
width = 32   # channels of the FPN, the instance heads and the semantic decoder

model = dict(
    num_things_classes=3,
    num_stuff_classes=4,
    backbone=dict(
        extra=dict(
            stage1=dict(block='BASIC', num_blocks=(1, ), num_channels=(32, )),
            stage2=dict(num_blocks=(1, 1), num_channels=hrnet_widths[:2]),
            stage3=dict(
                num_modules=1,
                num_blocks=(1, 1, 1),
                num_channels=hrnet_widths[:3]),
            stage4=dict(
                num_modules=1,
                num_blocks=(1, 1, 1, 1),
                num_channels=hrnet_widths)),
        init_cfg=None),
    neck=dict(in_channels=list(hrnet_widths), out_channels=width),
    rpn_head=dict(in_channels=width, feat_channels=width),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=width),
        bbox_head=dict(in_channels=width, fc_out_channels=128),
        mask_roi_extractor=dict(out_channels=width),
        mask_head=dict(
            num_convs=2, in_channels=width, conv_out_channels=width)),
    semantic_head=dict(
        in_channels=list(hrnet_widths),
        project_channels=(8, 16, 32),
        decoder_channels=width,
        aspp_channels=width,
        head_channels=width),
    train_cfg=dict(
        rpn=dict(sampler=dict(num=128)),
        rpn_proposal=dict(nms_pre=1000, max_per_img=300),
        rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(
        rpn=dict(nms_pre=1000, max_per_img=300),
        panoptic=dict(stuff_area_limit=1024)))
