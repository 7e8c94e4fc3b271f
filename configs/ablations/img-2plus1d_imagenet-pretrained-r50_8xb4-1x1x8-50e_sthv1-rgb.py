# Table 3, '(2+1)D ResNet': MMAction2's ResNet-50 with a plain dense temporal
# conv (TemporalConv1d) after every block's 3x3, no CMEM; IMG SthV1 recipe.
_base_ = '../img/img_imagenet-pretrained-res2net50-w26-s4_8xb4-1x1x8-50e_sthv1-rgb.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNetIMG',
        depth=50,
        num_segments=8,
        pretrained='torchvision://resnet50',
        norm_eval=False,
        with_cmem=False,
        temporal_cfg=dict(type='TemporalConv1d')))
