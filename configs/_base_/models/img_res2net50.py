# IMG Res2Net-50 26w_4s recognizer (paper Fig. 2): CMEM and CLIM with the
# adaptive shift (Eq. 13, TSM init, trained) in every bottleneck, 8 segments,
# TSM-style head, 174 classes (Something-Something).
num_segments = 8
model = dict(
    type='Recognizer2D',
    backbone=dict(
        type='Res2NetIMG',
        depth=50,
        base_width=26,
        scales=4,
        num_segments=num_segments,
        # ImageNet Res2Net-50 26w_4s (official / timm file, CC BY-NC-SA 4.0)
        pretrained='checkpoints/res2net50_26w_4s-06e79181.pth',
        with_cmem=True,
        # init='random' is the paper-silent default; 'identity' starts CMEM
        # as the identity (docs/model.md, "Readings of the paper").
        cmem_cfg=dict(reduction=16, alpha=1.0, beta=1.0, init='random'),
        temporal_cfg=dict(
            type='AdaptiveShift', shift_div=8, init='tsm', frozen=False),
        norm_eval=False,
        partial_bn=False),
    cls_head=dict(
        type='TSMHead',
        num_classes=174,
        in_channels=2048,
        num_segments=num_segments,
        spatial_type='avg',
        consensus=dict(type='AvgConsensus', dim=1),
        dropout_ratio=0.5,
        init_std=0.001,
        is_shift=True,
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCHW'))
