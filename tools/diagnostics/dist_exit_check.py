"""How often 2-process gloo jobs abort at exit (compat fix 6).

Runs ``img_mmaction.analysis.dist_exit``,
whose docstring gives the options.
"""
from img_mmaction.analysis.dist_exit import main

if __name__ == '__main__':
    main()
