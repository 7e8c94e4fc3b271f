# The evidence benchmark's dataset (benchmarks.evidence.motion_bench: 8
# classes over real footage, short- and long-range, 64x64 mp4s of 16
# frames): the demo's pipelines, loaders and metrics (8 TSN segments of 56x56
# crops, no flip) on another folder, evidence_output/data (the benchmark's
# --out).
_base_ = './motion-demo_videos.py'

data_root = 'evidence_output/data/videos'
ann_file_train = 'evidence_output/data/train.txt'
ann_file_val = 'evidence_output/data/val.txt'

train_dataloader = dict(
    dataset=dict(ann_file=ann_file_train, data_prefix=dict(video=data_root)))
val_dataloader = dict(
    dataset=dict(ann_file=ann_file_val, data_prefix=dict(video=data_root)))
test_dataloader = val_dataloader
