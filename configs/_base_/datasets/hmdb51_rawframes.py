# HMDB51 split 1 as rawframes, 51 classes (docs/data_preparation.md); the
# split-2/3 recipes replace the annotation files.
_base_ = './finetune_rawframes.py'

data_root = 'data/hmdb51/rawframes'
ann_file_train = 'data/hmdb51/hmdb51_train_split_1_rawframes.txt'
ann_file_val = 'data/hmdb51/hmdb51_val_split_1_rawframes.txt'
train_dataloader = dict(
    dataset=dict(
        ann_file=ann_file_train,
        data_prefix=dict(img=data_root),
        num_classes=51))
val_dataloader = dict(
    dataset=dict(
        ann_file=ann_file_val, data_prefix=dict(
            img=data_root), num_classes=51))
test_dataloader = dict(
    dataset=dict(
        ann_file=ann_file_val, data_prefix=dict(
            img=data_root), num_classes=51))
