# Your own recipe with IMG: MMAction2's stock TSM-R50 Kinetics-400 recipe
# with the IMG Res2Net-50 backbone, plus the plugin base (robust datasets,
# strict checkpoints, epoch seeds). Everything else (data, head, schedule,
# TSMOptimWrapperConstructor with fc_lr5) is MMAction2's. Run it with
#   mim train img_mmaction THIS_FILE
_base_ = [
    'mmaction::recognition/tsm/'
    'tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb.py',
    'img_mmaction::_base_/img_plugin.py',
]

model = dict(
    backbone=dict(
        _delete_=True,  # replace ResNetTSM's arguments, do not merge them
        type='Res2NetIMG',
        depth=50,
        num_segments=8,
        pretrained='checkpoints/res2net50_26w_4s-06e79181.pth'))
