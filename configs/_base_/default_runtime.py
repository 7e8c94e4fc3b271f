# Runtime of the IMG recipes: MMAction2's default runtime, the plugin (see
# img_plugin.py), and a check that backbone and head agree on num_segments.
_base_ = ['mmaction::_base_/default_runtime.py', './img_plugin.py']

custom_hooks = [
    dict(type='NumSegmentsCheckHook'),  # backbone and head agree on T
    dict(type='StrictCheckpointHook'),  # load_from / --checkpoint must fit
    dict(type='BrokenSampleHook', max_broken_ratio=0.01),
    dict(type='EpochSeedHook'),  # --resume replays the same epochs
]
default_hooks = dict(
    checkpoint=dict(interval=1, max_keep_ckpts=3, save_best='auto'))
