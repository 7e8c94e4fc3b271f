# IMG Res2Net-50 for fine-tuning from the SthV1 model (paper Sec. 4.2, second
# training method): every BN frozen except the first (partial BN), dropout
# 0.8; the weights come from the SthV1 checkpoint (load_from), not ImageNet.
_base_ = './img_res2net50.py'

model = dict(
    backbone=dict(pretrained=None, partial_bn=True),
    cls_head=dict(dropout_ratio=0.8))
