# Runtime of the demo and the CPU benchmarks: the IMG runtime, logging every
# 10 iterations, the last checkpoint only (the test uses it: no selection on
# the test videos), a fixed seed, gloo for CPU multi-process runs.
_base_ = './default_runtime.py'

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=1, max_keep_ckpts=1, save_best=None))
log_processor = dict(window_size=10)
randomness = dict(seed=0)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
