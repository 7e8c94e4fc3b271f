# TSN on the tiny ResNet: no CMEM, no temporal layer.
_base_ = './img_resnet-tiny_1xb8-1x1x8-8e_motion-bench-rgb.py'

model = dict(backbone=dict(with_cmem=False, temporal_cfg=None))
