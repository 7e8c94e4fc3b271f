# Table 3, '(2+1)D Res2Net', and Table 4, structure (a): Res2Net-50 with a
# plain dense temporal conv after each CLIM slice's 3x3, no CMEM (Fig. 8).
# Our reading makes the two rows the same network; the paper reports 46.2
# (Table 3) and 44.0 (Table 4). IMG SthV1 recipe.
_base_ = '../img/img_imagenet-pretrained-res2net50-w26-s4_8xb4-1x1x8-50e_sthv1-rgb.py'

model = dict(
    backbone=dict(
        with_cmem=False,
        temporal_cfg=dict(_delete_=True, type='TemporalConv1d')))
