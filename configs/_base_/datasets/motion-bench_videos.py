# The evidence benchmark's dataset (img_mmaction.synthetic.motion_bench: 8
# classes over real footage, short- and long-range, 64x64 mp4s of 16
# frames), 8 TSN segments of 56x56 crops. No horizontal flip: it would swap
# left and right, i.e. change the label. Data under evidence_output/data
# (the benchmark's --out).
data_root = 'evidence_output/data/videos'
ann_file_train = 'evidence_output/data/train.txt'
ann_file_val = 'evidence_output/data/val.txt'

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=8),
    dict(type='DecordDecode'),
    dict(type='RandomCrop', size=56),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(
        type='SampleFrames',
        clip_len=1,
        frame_interval=1,
        num_clips=8,
        test_mode=True),
    dict(type='DecordDecode'),
    dict(type='CenterCrop', crop_size=56),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = val_pipeline

train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='RobustVideoDataset',
        ann_file=ann_file_train,
        data_prefix=dict(video=data_root),
        num_classes=8,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='RobustVideoDataset',
        ann_file=ann_file_val,
        data_prefix=dict(video=data_root),
        num_classes=8,
        pipeline=val_pipeline,
        test_mode=True))
test_dataloader = val_dataloader

val_evaluator = dict(
    type='AccMetric', metric_list=('top_k_accuracy', 'mean_class_accuracy'))
test_evaluator = val_evaluator
