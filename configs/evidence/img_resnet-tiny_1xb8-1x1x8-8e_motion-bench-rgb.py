# IMG on a tiny ResNet for the evidence benchmark (Table 3's ResNet rows):
# Res2NetIMG with scales=1 and base_width=64 is ResNet's bottleneck (one 3x3
# per block, followed by the adaptive shift); CMEM after the first 1x1.
_base_ = './img_res2net-tiny_1xb8-1x1x8-8e_motion-bench-rgb.py'

model = dict(backbone=dict(scales=1, base_width=64))
