# Kinetics-400 schedule of MMAction2's TSM-R50 recipe (IMG has none of its
# own: the paper trains only on Something-Something): SGD, lr 0.02 for a
# total batch of 128, 5 warm-up epochs, lr x0.1 at epochs 25 and 45, weight
# decay 1e-4, 50 epochs; the TSM/TEA parameter groups (sgd_tsm-policy_50e.py).
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=50, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    constructor='IMGOptimWrapperConstructor',
    paramwise_cfg=dict(fc_lr5=True),
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=20, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=5),
    dict(
        type='MultiStepLR',
        begin=0,
        end=50,
        by_epoch=True,
        milestones=[25, 45],
        gamma=0.1)
]
auto_scale_lr = dict(enable=True, base_batch_size=128)
