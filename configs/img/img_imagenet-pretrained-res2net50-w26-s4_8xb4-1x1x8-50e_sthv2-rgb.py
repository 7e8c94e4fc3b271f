# IMG on Something-Something V2 (NOT reproduced; the paper reports no SthV2
# result): the paper's Something-Something recipe (configs/img/ SthV1) on
# SthV2 videos. Validation: 8 frames x 1 center crop x 1 clip; testing: 8
# frames x 3 crops x 2 clips (twice_sample), the usual SthV2 protocol.
_base_ = [
    '../_base_/models/img_res2net50.py', '../_base_/datasets/sthv2_videos.py',
    '../_base_/schedules/sgd_tsm-policy_50e.py', '../_base_/default_runtime.py'
]
