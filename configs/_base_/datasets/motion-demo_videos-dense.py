# The demo's synthetic motion dataset sampled densely, as an online model sees
# a video (OURS, docs/online.md): one clip of 8 consecutive frames at a stride
# of 2, i.e. frames 0, 2, ..., 14 of the 16-frame videos, in train and test
# alike. Everything else (crops, loaders, metrics) is the demo's.
_base_ = './motion-demo_videos.py'

sampling = dict(type='SampleFrames', clip_len=8, frame_interval=2, num_clips=1)
train_pipeline = [
    dict(type='DecordInit'),
    sampling,
    dict(type='DecordDecode'),
    dict(type='RandomCrop', size=56),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(sampling, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='CenterCrop', crop_size=56),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = val_pipeline

train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
