# Table 3, 'CMEM + Res2Net' (= Table 1's 34 G 'CMEM' model): Res2Net-50 with
# CMEM in every block, CLIM without a temporal layer. IMG SthV1 recipe.
_base_ = '../img/img_imagenet-pretrained-res2net50-w26-s4_8xb4-1x1x8-50e_sthv1-rgb.py'

model = dict(backbone=dict(with_cmem=True, temporal_cfg=None))
