# IMG fine-tuned from the SthV1 model on HMDB51 split 2, rawframes.
_base_ = './img_sthv1-pretrained-res2net50-w26-s4_8xb4-1x1x8-25e_hmdb51-split1-rawframes-rgb.py'

ann_file_train = 'data/hmdb51/hmdb51_train_split_2_rawframes.txt'
ann_file_val = 'data/hmdb51/hmdb51_val_split_2_rawframes.txt'
train_dataloader = dict(dataset=dict(ann_file=ann_file_train))
val_dataloader = dict(dataset=dict(ann_file=ann_file_val))
test_dataloader = dict(dataset=dict(ann_file=ann_file_val))
