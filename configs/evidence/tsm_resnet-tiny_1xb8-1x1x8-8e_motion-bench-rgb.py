# TSM on the tiny ResNet: TSM's frozen shift (1/8 each way) on each block's
# input; no CMEM, no temporal layer after the 3x3.
_base_ = './img_resnet-tiny_1xb8-1x1x8-8e_motion-bench-rgb.py'

model = dict(
    backbone=dict(
        with_cmem=False,
        temporal_cfg=None,
        input_temporal_cfg=dict(type='AdaptiveShift', init='tsm',
                                frozen=True)))
