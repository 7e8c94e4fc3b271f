# OUR online IMG at stride 1 (docs/online.md): 8 consecutive frames from a
# random start in training (the middle 8 in test), so that the model meets
# every part of the 16-frame videos; streamed frame by frame.
_base_ = './img-causal_res2net-tiny_1xb8-8x2x1-12e_motion-demo-rgb.py'

sampling = dict(type='SampleFrames', clip_len=8, frame_interval=1, num_clips=1)
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
