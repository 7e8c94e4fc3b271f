# OUR online IMG (docs/online.md), not the paper's: the tiny IMG Res2Net with
# causal CMEM and causal adaptive shift (frame t sees frames <= t only),
# trained on dense clips (8 consecutive frames at stride 2), the way
# StreamingRecognizer feeds it; the demo's schedule and runtime.
_base_ = [
    '../_base_/models/img-causal_res2net-tiny.py',
    '../_base_/datasets/motion-demo_videos-dense.py',
    '../_base_/schedules/adamw_12e.py', '../_base_/demo_runtime.py'
]
