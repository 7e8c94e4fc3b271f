# Everything img_mmaction adds to a recipe, as one base that merges with any
# MMAction2 recipe (it sets only keys MMAction2's recipes leave unset):
#
#   _base_ = ['mmaction::recognition/tsm/...py',
#             'img_mmaction::_base_/img_plugin.py']
#
# (`img_mmaction::` resolves where img_mmaction is imported first, e.g. under
# `mim train img_mmaction CONFIG`; from a clone, use the relative path.)
custom_imports = dict(imports=['img_mmaction'], allow_failed_imports=False)
# VideoDataset / RawframeDataset become their Robust* versions: lists checked
# before training, broken samples skipped and counted while training,
# refused with their file name while testing.
runner_type = 'RobustRunner'
custom_hooks = [
    dict(type='StrictCheckpointHook'),  # load_from / --checkpoint must fit
    dict(type='BrokenSampleHook', max_broken_ratio=0.01),
    dict(type='EpochSeedHook'),  # --resume replays the same epochs
]
