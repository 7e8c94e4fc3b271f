# (2+1)D on the tiny ResNet (Table 3's '(2+1)D ResNet'): a dense temporal
# conv (TemporalConv1d) after each block's 3x3; no CMEM.
_base_ = './img_resnet-tiny_1xb8-1x1x8-8e_motion-bench-rgb.py'

model = dict(
    backbone=dict(
        with_cmem=False,
        temporal_cfg=dict(_delete_=True, type='TemporalConv1d')))
