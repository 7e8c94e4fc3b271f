# Schedule of the evidence benchmark (tiny models trained from scratch on
# ~800 clips, docs/evidence.md): the demo's AdamW policy (adamw_12e.py: lr
# 2e-3, one warm-up epoch, cosine decay, weight decay 1e-4, TSM/TEA groups
# without the 5x classifier) over 8 epochs, validated at the end only (the
# test of the final checkpoint is the result).
max_epochs = 8
train_cfg = dict(
    type='EpochBasedTrainLoop',
    max_epochs=max_epochs,
    val_begin=1,
    val_interval=max_epochs)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    constructor='IMGOptimWrapperConstructor',
    paramwise_cfg=dict(fc_lr5=False),
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4),
    clip_grad=dict(max_norm=20, norm_type=2))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        eta_min=1e-5,
        by_epoch=True,
        begin=0,
        end=max_epochs),
]
