# IMG fine-tuned from SthV1 on HMDB51 split 1, videos decoded by decord.
_base_ = './_base_video.py'

model = dict(cls_head=dict(num_classes=51))
data_root = 'data/hmdb51/videos'
ann_file_train = 'data/hmdb51/hmdb51_train_split_1_videos.txt'
ann_file_val = 'data/hmdb51/hmdb51_val_split_1_videos.txt'
train_dataloader = dict(dataset=dict(ann_file=ann_file_train,
                                     data_prefix=dict(video=data_root)))
val_dataloader = dict(dataset=dict(ann_file=ann_file_val,
                                   data_prefix=dict(video=data_root)))
test_dataloader = dict(dataset=dict(ann_file=ann_file_val,
                                    data_prefix=dict(video=data_root)))
