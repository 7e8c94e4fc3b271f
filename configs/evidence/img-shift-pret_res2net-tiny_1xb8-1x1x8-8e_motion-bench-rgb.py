# s-shift-pret on the evidence benchmark (Table 4's structure (d)): the
# adaptive shift initialised at Eq. 13 and trained; no CMEM.
_base_ = './img_res2net-tiny_1xb8-1x1x8-8e_motion-bench-rgb.py'

model = dict(backbone=dict(with_cmem=False))
