# IMG on Something-Something V1 (paper Sec. 4.2, first training method):
# ImageNet Res2Net-50 init, 8 segments, SGD lr 0.01 for a total batch of 32
# (8 GPUs x 4; auto_scale_lr rescales for other totals), weight decay 1e-4
# (the paper's "1e4"), dropout 0.5, 50 epochs with lr x0.1 at 30/40/45, all
# BN layers trained. Validation/testing here is the paper's *efficient*
# protocol: 8 frames x 1 center crop x 1 clip. The *accurate* protocol
# (8 frames x 3 crops x 10 clips) is the `_test-8x3x10` config beside this.
_base_ = ['../_base_/img_res2net50.py', 'mmaction::_base_/default_runtime.py']

custom_imports = dict(imports=['img_mmaction'], allow_failed_imports=False)

# MMAction2's RawframeDataset that checks its list before training, skips
# (and counts) broken samples while training, and refuses them in testing.
dataset_type = 'RobustRawframeDataset'
data_root = 'data/sthv1/rawframes'
ann_file_train = 'data/sthv1/sthv1_train_list_rawframes.txt'
ann_file_val = 'data/sthv1/sthv1_val_list_rawframes.txt'
# Left/right class pairs in MMAction2's SthV1 label order.
sthv1_flip_label_map = {2: 4, 4: 2, 30: 41, 41: 30, 52: 66, 66: 52}

train_pipeline = [
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=8),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='MultiScaleCrop', input_size=224, scales=(1, 0.875, 0.75, 0.66),
         random_crop=False, max_wh_scale_gap=1, num_fixed_crops=13),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5, flip_label_map=sthv1_flip_label_map),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=8,
         test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = val_pipeline

train_dataloader = dict(
    batch_size=4, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=ann_file_train,
                 data_prefix=dict(img=data_root), filename_tmpl='{:05}.jpg',
                 start_index=1, num_classes=174, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file_val,
                 data_prefix=dict(img=data_root), filename_tmpl='{:05}.jpg',
                 start_index=1, pipeline=val_pipeline, test_mode=True))
test_dataloader = dict(
    batch_size=1, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file_val,
                 data_prefix=dict(img=data_root), filename_tmpl='{:05}.jpg',
                 start_index=1, pipeline=test_pipeline, test_mode=True))

val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=50, val_begin=1,
                 val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=20, norm_type=2))
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=50, by_epoch=True,
         milestones=[30, 40, 45], gamma=0.1)
]
# lr 0.01 is for a total batch of 32 (the paper's); other totals rescale it.
auto_scale_lr = dict(enable=True, base_batch_size=32)

default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=3,
                                     save_best='auto'))
custom_hooks = [
    dict(type='NumSegmentsCheckHook'),   # backbone and head agree on T
    dict(type='BrokenSampleHook', max_broken_ratio=0.01),
    dict(type='EpochSeedHook'),          # --resume replays the same epochs
]
