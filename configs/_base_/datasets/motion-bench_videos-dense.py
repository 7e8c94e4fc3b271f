# The evidence benchmark's dataset (motion-bench_videos.py: 8 classes over real
# footage, short- and long-range, 64x64 mp4s of 16 frames) sampled densely, as
# an online model sees a video (OURS, docs/online.md): the demo's dense
# pipelines (motion-demo_videos-dense.py), one clip of 8 consecutive frames at
# a stride of 2, i.e. frames 0, 2, ..., 14, in train and test alike, so that a
# clip spans the whole video (the long-range classes need both halves). Data
# under evidence_output/data (the benchmark's --out), as motion-bench_videos.py.
_base_ = './motion-demo_videos-dense.py'

data_root = 'evidence_output/data/videos'
ann_file_train = 'evidence_output/data/train.txt'
ann_file_val = 'evidence_output/data/val.txt'

train_dataloader = dict(
    dataset=dict(ann_file=ann_file_train, data_prefix=dict(video=data_root)))
val_dataloader = dict(
    dataset=dict(ann_file=ann_file_val, data_prefix=dict(video=data_root)))
test_dataloader = val_dataloader
