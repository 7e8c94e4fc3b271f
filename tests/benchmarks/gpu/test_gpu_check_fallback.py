"""benchmarks/gpu/check.sh end to end in its CPU fallback (pip, subprocess).

docs/gpu.md's ``make gpu-check`` (its block is ``by`` this test,
:mod:`tests.docs.blocks`) is run here with bash from the clone, this venv's
programs first on ``PATH`` (its ``python3`` is the check's), read from the
page with the replacements its marker declares: ``$OUT`` the report's
folder, ``$WHEELS`` a folder of one hand-made wheel, and no CUDA device
visible, so that it is the CPU fallback on any machine.
"""
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.docs.blocks import bash_environment, blocks_run_by, run_bash
from .test_device_wheels import make_wheel

pytestmark = pytest.mark.slow  # pip and the benchmark in subprocesses

REPO = Path(__file__).resolve().parents[3]
THIS_TEST = 'tests/benchmarks/gpu/test_gpu_check_fallback.py'


def test_check_installs_the_wheels_and_writes_its_report(tmp_path: Path
                                                         ) -> None:
    """A hand-made wheel stands for the carried ones (no registry here):
    pip installs it into a temporary path that comes first on the path;
    this environment has the rest."""
    wheels = tmp_path / 'wheels'
    make_wheel(
        wheels,
        'carried_probe',
        '1.0',
        modules={'carried_probe.py': 'HERE = 1\n'})
    out = tmp_path / 'out'
    blocks = blocks_run_by(THIS_TEST)
    assert len(blocks) == 1, [b.where for b in blocks]
    result = run_bash(
        blocks[0].command_text(),
        REPO,
        # PYTHON as `make test PYTHON=python3.12` exports it: the interpreter
        # that made the venv, without torch; the check must not take it.
        bash_environment(
            OUT=str(out), WHEELS=str(wheels),
            PYTHON='/nonexistent/python3.12'),
        timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert 'installed 1 wheels into' in (out / 'install.log').read_text()
    report = json.loads((out / 'gpu_check.json').read_text())
    assert report['mode'] == 'cpu-fallback'
    assert report['site'] and not Path(report['site']).exists()  # removed
    tests = report['stages']['cuda_tests']
    assert tests['status'] == 'ok' and tests['counts']['passed'] == 0
    assert tests['counts']['skipped'] > 30
    assert set(tests['skip_reasons']) == {'needs a CUDA device'}
    bench = report['stages']['benchmark_amp']
    assert bench['status'] == 'ok'
    assert list(
        bench['report']['results']) == ['IMG-Res2Net50', 'TSM-R50', 'TSN-R50']
    assert 'targets' not in bench  # CPU figures are no GPU verdicts
    log = (out / 'gpu_check.log').read_text()
    assert '# done: {"cuda_tests": "ok", "benchmark_amp": "ok"}' in log


def test_check_without_wheels_says_how_to_get_them(tmp_path: Path) -> None:
    env = dict(os.environ, OUT=str(tmp_path / 'out'), WHEELS=str(tmp_path))
    result = subprocess.run(['bash', 'benchmarks/gpu/check.sh'],
                            cwd=REPO,
                            env=env,
                            stderr=subprocess.PIPE,
                            text=True)
    assert result.returncode == 2
    assert 'benchmarks.gpu.device_wheels' in result.stderr
