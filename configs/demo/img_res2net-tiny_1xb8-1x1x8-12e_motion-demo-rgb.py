# IMG on the synthetic motion demo: CMEM and the adaptive shift (TSM init)
# in every block of the tiny Res2Net. Same code as the paper's Res2NetIMG-50,
# smaller arguments (1 block per stage, 16 base channels).
_base_ = './_base_motion_demo.py'

model = dict(backbone=dict(with_cmem=True, temporal='shift'))
