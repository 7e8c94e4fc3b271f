# IMG fine-tuned from SthV1 on UCF101 split 1, rawframes.
_base_ = './_base_rawframes.py'

model = dict(cls_head=dict(num_classes=101))
data_root = 'data/ucf101/rawframes'
ann_file_train = 'data/ucf101/ucf101_train_split_1_rawframes.txt'
ann_file_val = 'data/ucf101/ucf101_val_split_1_rawframes.txt'
train_dataloader = dict(dataset=dict(ann_file=ann_file_train,
                                     data_prefix=dict(img=data_root)))
val_dataloader = dict(dataset=dict(ann_file=ann_file_val,
                                   data_prefix=dict(img=data_root)))
test_dataloader = dict(dataset=dict(ann_file=ann_file_val,
                                    data_prefix=dict(img=data_root)))
