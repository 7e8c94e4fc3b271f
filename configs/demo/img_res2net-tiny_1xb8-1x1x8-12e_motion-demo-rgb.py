# IMG on the synthetic motion demo: CMEM and the adaptive shift (TSM init) in
# every block of the tiny Res2Net (the paper's Res2NetIMG with smaller
# arguments), trained from scratch for 12 epochs on CPU.
_base_ = [
    '../_base_/models/img_res2net-tiny.py',
    '../_base_/datasets/motion-demo_videos.py',
    '../_base_/schedules/adamw_12e.py', '../_base_/demo_runtime.py'
]
