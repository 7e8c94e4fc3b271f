"""The paper's ablation variants on the motion benchmark (docs/evidence.md).

Runs ``img_mmaction.analysis.motion_ablation``,
whose docstring gives the options.
"""
from img_mmaction.analysis.motion_ablation import main

if __name__ == '__main__':
    main()
