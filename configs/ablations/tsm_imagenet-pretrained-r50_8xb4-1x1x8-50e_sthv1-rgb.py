# Table 4, 'TSM-RGB': MMAction2's own ResNetTSM-50 (shift 1/8 each way), on
# the IMG SthV1 recipe (50 epochs, SGD lr 0.01 @ batch 32, TSM/TEA groups).
_base_ = '../img/img_imagenet-pretrained-res2net50-w26-s4_8xb4-1x1x8-50e_sthv1-rgb.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNetTSM',
        depth=50,
        num_segments=8,
        pretrained='torchvision://resnet50',
        norm_eval=False,
        shift_div=8))
