# TSN on the evidence benchmark: the same tiny Res2Net without CMEM and
# without a temporal layer (no temporal modelling; average consensus).
_base_ = './img_res2net-tiny_1xb8-1x1x8-8e_motion-bench-rgb.py'

model = dict(backbone=dict(with_cmem=False, temporal_cfg=None))
