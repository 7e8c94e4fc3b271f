# Something-Something schedule of the paper (Sec. 4.2, first training
# method): SGD, lr 0.01 for a total batch of 32 (auto_scale_lr rescales it for
# other totals), momentum 0.9, weight decay 1e-4 (the paper's "1e4"), 50
# epochs, lr x0.1 at epochs 30, 40 and 45, gradients clipped at 20.
# Parameter groups: the training policy of TSM/TEA, which the paper follows
# ("similar to TSM, STM, TEA"): conv/linear weights with weight decay, BN
# and biases without (biases at 2x lr), the new classifier at 5x lr (weight)
# and 10x (bias), the adaptive shift kernels and CMEM in groups of their own
# (IMGOptimWrapperConstructor; docs/recipes.md, "Training policy").
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=50, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    constructor='IMGOptimWrapperConstructor',
    paramwise_cfg=dict(fc_lr5=True),
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=20, norm_type=2))
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=50,
        by_epoch=True,
        milestones=[30, 40, 45],
        gamma=0.1)
]
auto_scale_lr = dict(enable=True, base_batch_size=32)
