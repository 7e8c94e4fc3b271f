# (2+1)D on the evidence benchmark (Table 4's structure (a), Table 3's
# '(2+1)D Res2Net'): a dense temporal conv (TemporalConv1d) after each CLIM
# slice's 3x3 instead of the adaptive shift; no CMEM.
_base_ = './img_res2net-tiny_1xb8-1x1x8-8e_motion-bench-rgb.py'

model = dict(
    backbone=dict(
        with_cmem=False,
        temporal_cfg=dict(_delete_=True, type='TemporalConv1d')))
