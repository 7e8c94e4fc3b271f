"""``mim test img_mmaction CONFIG``: MMAction2's tools/test.py, plugin first.

mim runs a package's ``.mim/tools/test.py``; this one imports img_mmaction
(its compat fixes, registrations and the ``img_mmaction::`` config scope)
before MMAction2's own script parses the config, so that recipes may inherit
``img_mmaction::`` bases and be named by file name alone. Every argument is
MMAction2's.
"""
import runpy
import sys
from pathlib import Path

import img_mmaction  # noqa: F401  (fixes, registration, config scope)


def main() -> None:
    """Runs MMAction2's tools/test.py with this process's arguments."""
    import mmaction
    script = Path(mmaction.__file__).parent / '.mim' / 'tools' / 'test.py'
    sys.argv[0] = str(script)
    runpy.run_path(str(script), run_name='__main__')


if __name__ == '__main__':
    main()
