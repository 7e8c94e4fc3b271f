# Table 4, structure (d), s-shift-pret: adaptive shift initialised at Eq. 13
# and trained; no CMEM (Fig. 8). IMG SthV1 recipe.
_base_ = '../img/img_imagenet-pretrained-res2net50-w26-s4_8xb4-1x1x8-50e_sthv1-rgb.py'

model = dict(
    backbone=dict(
        with_cmem=False,
        temporal_cfg=dict(
            type='AdaptiveShift', shift_div=8, init='tsm', frozen=False)))
