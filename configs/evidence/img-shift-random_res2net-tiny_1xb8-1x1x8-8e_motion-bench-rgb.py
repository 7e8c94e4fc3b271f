# s-shift-random on the evidence benchmark (Table 4's structure (b)): the
# adaptive shift with a random kernel, trained; no CMEM.
_base_ = './img_res2net-tiny_1xb8-1x1x8-8e_motion-bench-rgb.py'

model = dict(backbone=dict(with_cmem=False, temporal_cfg=dict(init='random')))
