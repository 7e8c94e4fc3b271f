# Fine-tuning schedule of the paper (Sec. 4.2, second training method): SGD,
# lr 0.001 for a total batch of 32, weight decay 5e-4 (the paper's "5e4"),
# 25 epochs, lr x0.1 at epochs 10 and 20. Parameter groups: the TSM/TEA
# policy (see sgd_tsm-policy_50e.py); the classifier is new (174 -> 101 or
# 51 classes), so it trains at 5x / 10x lr, as in TSM's fine-tuning.
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=25, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    constructor='IMGOptimWrapperConstructor',
    paramwise_cfg=dict(fc_lr5=True),
    optimizer=dict(type='SGD', lr=0.001, momentum=0.9, weight_decay=5e-4),
    clip_grad=dict(max_norm=20, norm_type=2))
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=25,
        by_epoch=True,
        milestones=[10, 20],
        gamma=0.1)
]
auto_scale_lr = dict(enable=True, base_batch_size=32)
