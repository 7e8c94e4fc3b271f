# TSN baseline on the synthetic motion demo: MMAction2's Recognizer2D and
# TSNHead (average consensus over segments) on the same tiny Res2Net with
# CMEM and the shift switched off, i.e. no temporal modelling at all.
_base_ = './_base_motion_demo.py'

model = dict(backbone=dict(with_cmem=False, temporal='none'))
