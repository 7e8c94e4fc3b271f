# IMG on the evidence benchmark (docs/evidence.md): CMEM and the adaptive
# shift (TSM init, trained: s-shift-pret) in every block of the demo's tiny
# Res2Net, trained from scratch on CPU. Every other recipe of this folder
# changes only the backbone's documented options.
_base_ = [
    '../_base_/models/img_res2net-tiny.py',
    '../_base_/datasets/motion-bench_videos.py',
    '../_base_/schedules/adamw_8e.py', '../_base_/demo_runtime.py'
]
