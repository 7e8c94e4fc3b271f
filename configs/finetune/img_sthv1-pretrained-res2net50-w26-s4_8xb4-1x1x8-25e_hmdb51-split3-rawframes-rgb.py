# IMG fine-tuned from SthV1 on HMDB51 split 3, rawframes.
_base_ = './_base_rawframes.py'

model = dict(cls_head=dict(num_classes=51))
data_root = 'data/hmdb51/rawframes'
ann_file_train = 'data/hmdb51/hmdb51_train_split_3_rawframes.txt'
ann_file_val = 'data/hmdb51/hmdb51_val_split_3_rawframes.txt'
train_dataloader = dict(dataset=dict(ann_file=ann_file_train,
                                     data_prefix=dict(img=data_root)))
val_dataloader = dict(dataset=dict(ann_file=ann_file_val,
                                   data_prefix=dict(img=data_root)))
test_dataloader = dict(dataset=dict(ann_file=ann_file_val,
                                    data_prefix=dict(img=data_root)))
