# Schedule of the evidence benchmark (tiny models trained from scratch on
# ~800 clips, docs/evidence.md): the demo's AdamW policy (adamw_12e.py) over
# 8 epochs, validated at the end only (the test of the final checkpoint is
# the result). The schedulers are restated because a config list is replaced
# as a whole.
_base_ = './adamw_12e.py'

max_epochs = 8
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
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
