# A tiny IMG Res2Net for the demo and the CPU benchmarks: the paper's
# Res2NetIMG with smaller arguments (1 block per stage, 16 base channels:
# slices of 6 channels, so the shift moves 1/2 of them each way), trained
# from scratch, with MMAction2's TSNHead (average consensus), 8 classes.
num_segments = 8
model = dict(
    type='Recognizer2D',
    backbone=dict(
        type='Res2NetIMG',
        num_segments=num_segments,
        stage_blocks=(1, 1, 1, 1),
        base_channels=16,
        stem_channels=16,
        pretrained=None,
        with_cmem=True,
        cmem_cfg=dict(reduction=4),
        temporal_cfg=dict(type='AdaptiveShift', shift_div=2)),
    cls_head=dict(
        type='TSNHead',
        num_classes=8,
        in_channels=512,
        spatial_type='avg',
        consensus=dict(type='AvgConsensus', dim=1),
        dropout_ratio=0.2,
        init_std=0.01,
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[127.5, 127.5, 127.5],
        std=[64.0, 64.0, 64.0],
        format_shape='NCHW'))
