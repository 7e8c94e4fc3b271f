"""Runs the stock ``mim`` command line of this venv, as a user would."""
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import List

MIM = str(Path(sys.executable).with_name('mim'))

#: Lines worth seeing when a run fails: a process that aborts prints only
#: one of these, far above the launcher's long traceback.
_FAILURE_LINE = re.compile(r'terminate called|Error|error:|Killed|Aborted|'
                           r'exitcode|FAILED')


def failure_report(output: str, tail_chars: int = 3000) -> str:
    """The lines that say why a run failed, then the end of its output."""
    marked = [
        line for line in output.splitlines() if _FAILURE_LINE.search(line)
    ]
    return ('\n'.join(marked[:40]) + '\n--- end of output ---\n' +
            output[-tail_chars:])


def run_mim(args: List[str], cwd: Path) -> str:
    """Runs ``mim`` in ``cwd``; returns its output, failing with a report."""
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    result = subprocess.run([MIM, *args],
                            cwd=cwd,
                            env=env,
                            capture_output=True,
                            text=True,
                            timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, failure_report(output)
    return output
