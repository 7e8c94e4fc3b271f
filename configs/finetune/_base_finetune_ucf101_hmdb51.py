# Fine-tuning IMG from the SthV1 model on UCF101 / HMDB51 (paper Sec. 4.2,
# second training method): every BN frozen except the first (partial BN),
# lr 0.001 for a total batch of 32, weight decay 5e-4 (the paper's "5e4"),
# dropout 0.8, 25 epochs with lr x0.1 at epochs 10 and 20.
# Loading the 174-class SthV1 checkpoint re-initialises only the classifier
# (cls_head.fc_cls): FinetuneCheckpointHook logs exactly which tensors keep
# their fresh initialisation and refuses any other mismatch.
_base_ = ['../_base_/img_res2net50.py', 'mmaction::_base_/default_runtime.py']

custom_imports = dict(imports=['img_mmaction'], allow_failed_imports=False)

# The SthV1 checkpoint trained with configs/img/ (override on the command
# line: --cfg-options load_from=PATH).
load_from = 'work_dirs/img_imagenet-pretrained-res2net50-w26-s4_8xb4-1x1x8-50e_sthv1-rgb/best.pth'

model = dict(
    backbone=dict(pretrained=None, partial_bn=True),
    cls_head=dict(dropout_ratio=0.8))

custom_hooks = [
    dict(type='FinetuneCheckpointHook', reinit_prefixes=('cls_head.fc_cls.', )),
    dict(type='NumSegmentsCheckHook'),
    dict(type='BrokenSampleHook', max_broken_ratio=0.01),
    dict(type='EpochSeedHook'),
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=25, val_begin=1,
                 val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.001, momentum=0.9, weight_decay=5e-4),
    clip_grad=dict(max_norm=20, norm_type=2))
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=25, by_epoch=True,
         milestones=[10, 20], gamma=0.1)
]
auto_scale_lr = dict(enable=True, base_batch_size=32)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=3,
                                     save_best='auto'))
val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
