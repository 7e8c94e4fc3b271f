# IMG on Kinetics-400 (NOT reproduced; the paper reports no Kinetics result):
# MMAction2's TSM-R50 K400 recipe (8 GPUs x 16 clips, lr 0.02, 5 warm-up
# epochs, lr x0.1 at 25/45, 50 epochs) with the IMG Res2Net-50 backbone.
# Validation: 8 frames x 1 center crop; testing: 8 frames x 10 crops x 1 clip.
_base_ = [
    '../_base_/models/img_res2net50.py',
    '../_base_/datasets/kinetics400_videos.py',
    '../_base_/schedules/sgd_tsm-policy_50e_kinetics400.py',
    '../_base_/default_runtime.py'
]

model = dict(cls_head=dict(num_classes=400))
