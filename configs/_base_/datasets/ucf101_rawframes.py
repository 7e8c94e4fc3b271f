# UCF101 split 1 as rawframes, 101 classes (docs/data_preparation.md); the
# split-2/3 recipes replace the annotation files.
_base_ = './finetune_rawframes.py'

data_root = 'data/ucf101/rawframes'
ann_file_train = 'data/ucf101/ucf101_train_split_1_rawframes.txt'
ann_file_val = 'data/ucf101/ucf101_val_split_1_rawframes.txt'
train_dataloader = dict(
    dataset=dict(
        ann_file=ann_file_train,
        data_prefix=dict(img=data_root),
        num_classes=101))
val_dataloader = dict(
    dataset=dict(
        ann_file=ann_file_val,
        data_prefix=dict(img=data_root),
        num_classes=101))
test_dataloader = dict(
    dataset=dict(
        ann_file=ann_file_val,
        data_prefix=dict(img=data_root),
        num_classes=101))
