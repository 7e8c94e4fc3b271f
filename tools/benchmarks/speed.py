"""IMG vs TSM-R50 vs TSN-R50: FLOPs, latency, train step, memory.

Runs ``img_mmaction.analysis.speed``,
whose docstring gives the options.
"""
from img_mmaction.analysis.speed import main

if __name__ == '__main__':
    main()
