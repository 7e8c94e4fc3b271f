# TSN baseline on the synthetic motion demo: MMAction2's Recognizer2D and
# TSNHead (average consensus over segments) on the same tiny Res2Net with
# CMEM and the temporal layer switched off, i.e. no temporal modelling.
_base_ = './img_res2net-tiny_1xb8-1x1x8-12e_motion-demo-rgb.py'

model = dict(backbone=dict(with_cmem=False, temporal_cfg=None))
