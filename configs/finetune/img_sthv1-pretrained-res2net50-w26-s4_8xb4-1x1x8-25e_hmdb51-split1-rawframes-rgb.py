# IMG fine-tuned from the SthV1 model on HMDB51 split 1, rawframes: partial BN,
# dropout 0.8, lr 0.001 for a total batch of 32, 25 epochs (paper Sec. 4.2).
_base_ = [
    '../_base_/models/img_res2net50_finetune.py',
    '../_base_/datasets/hmdb51_rawframes.py',
    '../_base_/schedules/sgd_tsm-policy_25e_finetune.py',
    '../_base_/finetune_runtime.py'
]

model = dict(cls_head=dict(num_classes=51))
