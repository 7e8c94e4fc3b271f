# Table 3, 'CMEM + ResNet': MMAction2's ResNet-50 with CMEM after every
# block's 1x1 conv, no temporal layer; IMG SthV1 recipe.
_base_ = '../img/img_imagenet-pretrained-res2net50-w26-s4_8xb4-1x1x8-50e_sthv1-rgb.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNetIMG',
        depth=50,
        num_segments=8,
        pretrained='torchvision://resnet50',
        norm_eval=False,
        with_cmem=True,
        temporal_cfg=None))
