# CMEM on the tiny ResNet (Table 3's 'CMEM + ResNet'): CMEM after each
# block's first 1x1, no temporal layer.
_base_ = './img_resnet-tiny_1xb8-1x1x8-8e_motion-bench-rgb.py'

model = dict(backbone=dict(with_cmem=True, temporal_cfg=None))
