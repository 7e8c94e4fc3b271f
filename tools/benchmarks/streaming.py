"""Per-frame latency and memory: streaming vs re-running the window.

Runs ``img_mmaction.analysis.streaming_speed`` (causal IMG, ours),
whose docstring gives the options.
"""
from img_mmaction.analysis.streaming_speed import main

if __name__ == '__main__':
    main()
