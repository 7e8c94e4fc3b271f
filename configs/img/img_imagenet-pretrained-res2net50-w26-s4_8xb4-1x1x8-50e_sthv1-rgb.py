# IMG on Something-Something V1 (paper Sec. 4.2, first training method):
# ImageNet Res2Net-50 init, 8 segments, SGD lr 0.01 for a total batch of 32
# (8 GPUs x 4), weight decay 1e-4, dropout 0.5, 50 epochs with lr x0.1 at
# 30/40/45, all BN layers trained, the TSM/TEA parameter groups. Validation
# and testing: the paper's efficient protocol (8 frames x 1 center crop x 1
# clip); the accurate one (8 x 3 crops x 10 clips) is the `_test-8x3x10`
# config beside this.
_base_ = [
    '../_base_/models/img_res2net50.py',
    '../_base_/datasets/sthv1_rawframes.py',
    '../_base_/schedules/sgd_tsm-policy_50e.py', '../_base_/default_runtime.py'
]
