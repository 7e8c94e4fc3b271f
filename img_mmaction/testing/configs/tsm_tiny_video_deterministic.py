# The tiny TSM recipe made deterministic for 1-vs-2-process comparisons:
# BN frozen (per-process batch statistics would differ), no dropout, no
# random augmentation, no shuffling, 4 clips per step in total.
_base_ = './tsm_tiny_video.py'

model = dict(backbone=dict(norm_eval=True))
train_dataloader = dict(
    batch_size=4,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(pipeline={{_base_.test_pipeline}}))
optim_wrapper = dict(clip_grad=None)
