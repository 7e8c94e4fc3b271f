# TSM on the evidence benchmark: the same tiny Res2Net with TSM's shift (1/8
# of the channels each way, frozen) on each block's input, TSM's placement;
# no CMEM and no temporal layer in CLIM.
_base_ = './img_res2net-tiny_1xb8-1x1x8-8e_motion-bench-rgb.py'

model = dict(
    backbone=dict(
        with_cmem=False,
        temporal_cfg=None,
        input_temporal_cfg=dict(type='AdaptiveShift', init='tsm',
                                frozen=True)))
