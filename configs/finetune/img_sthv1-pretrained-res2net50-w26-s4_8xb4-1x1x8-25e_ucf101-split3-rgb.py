# IMG fine-tuned from the SthV1 model on UCF101 split 3, videos.
_base_ = './img_sthv1-pretrained-res2net50-w26-s4_8xb4-1x1x8-25e_ucf101-split1-rgb.py'

ann_file_train = 'data/ucf101/ucf101_train_split_3_videos.txt'
ann_file_val = 'data/ucf101/ucf101_val_split_3_videos.txt'
train_dataloader = dict(dataset=dict(ann_file=ann_file_train))
val_dataloader = dict(dataset=dict(ann_file=ann_file_val))
test_dataloader = dict(dataset=dict(ann_file=ann_file_val))
