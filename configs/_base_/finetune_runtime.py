# Runtime of the fine-tuning recipes: the IMG runtime, starting from the SthV1
# checkpoint. Loading its 174-class classifier into a 101- or 51-class model
# re-initialises only cls_head.fc_cls: FinetuneCheckpointHook logs exactly
# which tensors keep their fresh initialisation and refuses any other
# mismatch.
_base_ = './default_runtime.py'

# The SthV1 checkpoint trained with configs/img/ (override on the command
# line: --cfg-options load_from=PATH).
load_from = 'work_dirs/img_imagenet-pretrained-res2net50-w26-s4_8xb4-1x1x8-50e_sthv1-rgb/best.pth'
custom_hooks = [
    dict(type='NumSegmentsCheckHook'),
    dict(
        type='FinetuneCheckpointHook', reinit_prefixes=('cls_head.fc_cls.', )),
    dict(type='BrokenSampleHook', max_broken_ratio=0.01),
    dict(type='EpochSeedHook'),
]
