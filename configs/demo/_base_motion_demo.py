# Shared recipe of the embedded demo: 8 synthetic motion classes (see
# img_mmaction/demo/synthetic.py), 8 TSN segments of 56x56 crops, a small
# Res2Net trained from scratch on CPU. No horizontal flip: it would swap
# left/right and the direction of rotation, i.e. change the label.
_base_ = 'mmaction::_base_/default_runtime.py'

custom_imports = dict(imports=['img_mmaction'], allow_failed_imports=False)

num_segments = 8
data_root = 'demo_output/data/videos'
ann_file_train = 'demo_output/data/train.txt'
ann_file_val = 'demo_output/data/val.txt'

# The same tiny Res2Net for both models: 1 block per stage, 16 base
# channels (slices of 6 channels, so the shift moves 1/2 of them each way).
backbone_common = dict(
    type='Res2NetIMG', num_segments=num_segments, stage_blocks=(1, 1, 1, 1),
    base_channels=16, stem_channels=16, pretrained=None,
    cmem_cfg=dict(reduction=4), shift_cfg=dict(shift_div=2))

model = dict(
    type='Recognizer2D',
    backbone=backbone_common,
    cls_head=dict(type='TSNHead', num_classes=8, in_channels=512,
                  spatial_type='avg',
                  consensus=dict(type='AvgConsensus', dim=1),
                  dropout_ratio=0.2, init_std=0.01, average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor',
                           mean=[127.5, 127.5, 127.5],
                           std=[64.0, 64.0, 64.0], format_shape='NCHW'))

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1,
         num_clips=num_segments),
    dict(type='DecordDecode'),
    dict(type='RandomCrop', size=56),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1,
         num_clips=num_segments, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='CenterCrop', crop_size=56),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = val_pipeline

train_dataloader = dict(
    batch_size=8, num_workers=1, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='VideoDataset', ann_file=ann_file_train,
                 data_prefix=dict(video=data_root), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8, num_workers=1, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='VideoDataset', ann_file=ann_file_val,
                 data_prefix=dict(video=data_root), pipeline=val_pipeline,
                 test_mode=True))
test_dataloader = val_dataloader

val_evaluator = dict(type='AccMetric',
                     metric_list=('top_k_accuracy', 'mean_class_accuracy'))
test_evaluator = val_evaluator

max_epochs = 12
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4),
    clip_grad=dict(max_norm=20, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=1e-5,
         by_epoch=True, begin=0, end=max_epochs),
]

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=1, max_keep_ckpts=1, save_best=None))
log_processor = dict(window_size=10)
randomness = dict(seed=0)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
