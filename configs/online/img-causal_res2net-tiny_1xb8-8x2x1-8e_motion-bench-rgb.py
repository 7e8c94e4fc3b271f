# OUR online IMG on the evidence benchmark (docs/evidence.md), not the paper's:
# the causal tiny IMG Res2Net of the demo's online recipes, trained on dense
# clips of the motion benchmark (8 consecutive frames at stride 2, the whole
# 16-frame video, as its long-range classes need), the way StreamingRecognizer
# feeds it; the benchmark's 8-epoch schedule and the demo's runtime.
_base_ = [
    '../_base_/models/img-causal_res2net-tiny.py',
    '../_base_/datasets/motion-bench_videos-dense.py',
    '../_base_/schedules/adamw_8e.py', '../_base_/demo_runtime.py'
]
