# The paper's *accurate* test protocol for IMG on SthV1: 8 frames x 3 crops
# x 10 clips per video, scores averaged (Table 1, "8 x 3 x 10"). The 10 clips
# are TSN samplings of 8 segments with 10 evenly spread offsets
# (MultiOffsetSampleFrames); each of the 30 views is 8 consecutive frames of
# the batch, which Recognizer2D + TSMHead average.
# Usage: mim test mmaction THIS_CONFIG --checkpoint CKPT
_base_ = './img_imagenet-pretrained-res2net50-w26-s4_8xb4-1x1x8-50e_sthv1-rgb.py'

test_pipeline = [
    dict(
        type='MultiOffsetSampleFrames',
        num_segments=8,
        num_offsets=10,
        test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='ThreeCrop', crop_size=256),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
