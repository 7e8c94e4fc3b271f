# CMEM only on the evidence benchmark (Table 3's 'CMEM + Res2Net'): CMEM in
# every block of the tiny Res2Net, CLIM without a temporal layer.
_base_ = './img_res2net-tiny_1xb8-1x1x8-8e_motion-bench-rgb.py'

model = dict(backbone=dict(with_cmem=True, temporal_cfg=None))
