# OUR causal IMG (docs/online.md), not the paper's: the tiny IMG Res2Net with
# CMEM looking back to frame t-1 and the adaptive shift's kernel on frames
# t-1, t only (init: TSM's online shift), so that it streams frame by frame.
_base_ = './img_res2net-tiny.py'

model = dict(
    backbone=dict(cmem_cfg=dict(causal=True), temporal_cfg=dict(causal=True)))
