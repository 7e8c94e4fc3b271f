# A tiny TSM recipe for end-to-end tests of the plugin with stock tooling.
# It inherits MMAction2's own TSM-R50 Kinetics recipe and shrinks it: a
# ResNet-18 TSM from scratch, 4 segments of 32x32 frames, data under ./data
# (relative to the working directory the test runs `mim` in).
_base_ = ('mmaction::recognition/tsm/'
          'tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb.py')

custom_imports = dict(imports=['img_mmaction'], allow_failed_imports=False)

num_segments = 4
model = dict(
    backbone=dict(
        pretrained=None,
        pretrained2d=False,
        depth=18,
        num_segments=num_segments),
    cls_head=dict(
        num_classes=2,
        in_channels=512,
        num_segments=num_segments,
        dropout_ratio=0.0))

data_root = 'data/videos'
ann_file = 'data/ann.txt'

train_pipeline = [
    dict(type='DecordInit'),
    dict(
        type='SampleFrames',
        clip_len=1,
        frame_interval=1,
        num_clips=num_segments),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 40)),
    dict(type='RandomCrop', size=32),
    dict(type='ColorJitter', hue=0.2),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(
        type='SampleFrames',
        clip_len=1,
        frame_interval=1,
        num_clips=num_segments,
        test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 40)),
    dict(type='CenterCrop', crop_size=32),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]

train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        ann_file=ann_file,
        data_prefix=dict(video=data_root),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        ann_file=ann_file,
        data_prefix=dict(video=data_root),
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        ann_file=ann_file,
        data_prefix=dict(video=data_root),
        pipeline=test_pipeline))

train_cfg = dict(max_epochs=1, val_begin=1, val_interval=1)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True)]
optim_wrapper = dict(optimizer=dict(lr=0.01))
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval=1, save_best=None, max_keep_ckpts=2))
randomness = dict(seed=0, deterministic=True)

# CPU multi-process runs (--launcher pytorch): gloo and DDP without devices.
env_cfg = dict(dist_cfg=dict(backend='gloo'))
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False)
