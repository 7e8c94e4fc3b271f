"""Times the adaptive shift's two implementations (Eq. 13).

Runs ``img_mmaction.analysis.shift_impls``,
whose docstring gives the options.
"""
from img_mmaction.analysis.shift_impls import main

if __name__ == '__main__':
    main()
