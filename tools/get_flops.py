"""FLOPs and parameters of IMG and its references (Table 1).

Runs ``img_mmaction.analysis.complexity``,
whose docstring gives the options.
"""
from img_mmaction.analysis.complexity import main

if __name__ == '__main__':
    main()
