"""benchmarks.gpu.gpu_check: the stages, their budget, the report."""
import io
import json
import sys
from pathlib import Path

import pytest

from benchmarks.gpu import gpu_check

JUNIT = '''<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
<testcase classname="tests.models.test_cuda" name="test_a" time="0.1"/>
<testcase classname="tests.models.test_cuda" name="test_b" time="0.1">
<failure message="assert 0.2 &lt; 0.1">long text</failure></testcase>
<testcase classname="tests.engine.test_cuda_training" name="test_c">
<skipped type="pytest.skip" message="needs a CUDA device">x</skipped>
</testcase>
<testcase classname="tests.engine.test_cuda_training" name="test_d">
<error message="fixture failed">y</error></testcase>
</testsuite></testsuites>
'''


def quiet_log() -> gpu_check.Log:
    return gpu_check.Log(io.StringIO())


def test_junit_summary_counts_and_names_the_failures(tmp_path: Path) -> None:
    path = tmp_path / 'junit.xml'
    path.write_text(JUNIT)
    summary = gpu_check.junit_summary(path)
    assert summary['counts'] == dict(passed=1, failed=1, errors=1, skipped=1)
    assert summary['failures'] == [
        dict(
            test='tests.models.test_cuda::test_b',
            kind='failure',
            message='assert 0.2 < 0.1'),
        dict(
            test='tests.engine.test_cuda_training::test_d',
            kind='error',
            message='fixture failed')
    ]
    assert summary['skip_reasons'] == {'needs a CUDA device': 1}


def test_targets_are_img_over_tsm_at_most_1_15() -> None:
    results = {
        'IMG-Res2Net50': dict(train_vs_tsm=1.2, forward_vs_tsm=1.1),
        'TSM-R50': dict(train_vs_tsm=1.0, forward_vs_tsm=1.0)
    }
    assert gpu_check.target_verdicts(results) == {
        'train_vs_tsm': dict(ratio=1.2, limit=1.15, met=False),
        'forward_vs_tsm': dict(ratio=1.1, limit=1.15, met=True),
    }


def test_run_stage_reports_ok_failed_and_timeout() -> None:
    log = quiet_log()
    python = sys.executable
    ok = gpu_check.run_stage('s', [python, '-c', 'print(42)'], 30, log)
    assert ok['status'] == 'ok' and ok['returncode'] == 0
    assert '42' in log.handle.getvalue()
    failed = gpu_check.run_stage('s', [python, '-c', 'raise SystemExit(3)'],
                                 30, log)
    assert failed['status'] == 'failed' and failed['returncode'] == 3
    slow = gpu_check.run_stage(
        's',
        [python, '-c', 'import time; print(1, flush=True); '
         'time.sleep(30)'], 1.5, log)
    assert slow['status'] == 'timeout' and slow['returncode'] is None
    assert gpu_check.exit_status(dict(stages=dict(a=ok))) == 0
    assert gpu_check.exit_status(dict(stages=dict(a=ok, b=slow))) == 1


def test_a_stage_without_budget_is_skipped_and_says_so(tmp_path: Path) -> None:
    report = dict(stages={})
    check = gpu_check.Check(tmp_path, True, 1, quiet_log(), report)
    assert check.limit('cuda_tests') is None
    written = json.loads((tmp_path / 'gpu_check.json').read_text())
    assert written['stages']['cuda_tests']['status'] == 'skipped'
    assert 'of the budget left' in written['stages']['cuda_tests']['reason']


def test_carried_packages_name_their_version_and_place() -> None:
    """The versions installed here, as the modules themselves state them
    (not the distributions' metadata that carried_packages reads)."""
    import mmaction
    import mmengine
    site = str(Path(mmengine.__file__).parents[1])
    found = gpu_check.carried_packages(site)
    assert found['mmengine']['version'] == mmengine.__version__
    assert found['mmengine']['from_site'] is True
    assert found['mmaction']['version'] == mmaction.__version__


def test_carried_packages_read_the_distribution_and_flag_the_site(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A distribution made here: its module, its metadata's version (the
    module has none), whether it came from ``site``, and a missing one."""
    site = tmp_path / 'site'
    (site / 'carried_probe_mod').mkdir(parents=True)
    (site / 'carried_probe_mod' / '__init__.py').write_text('HERE = 1\n')
    info = site / 'carried_probe_dist-3.1.4.dist-info'
    info.mkdir()
    (info / 'METADATA').write_text('Metadata-Version: 2.1\n'
                                   'Name: carried-probe-dist\n'
                                   'Version: 3.1.4\n')
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(
        gpu_check, 'CARRIED', {
            'carried_probe_mod': 'carried-probe-dist',
            'carried_probe_absent': 'carried-probe-absent'
        })
    try:
        found = gpu_check.carried_packages(str(site))
        elsewhere = gpu_check.carried_packages(str(tmp_path / 'other'))
        nowhere = gpu_check.carried_packages(None)
    finally:
        sys.modules.pop('carried_probe_mod', None)
    assert found['carried_probe_mod'] == dict(
        version='3.1.4',
        path=str((site / 'carried_probe_mod').resolve()),
        from_site=True)
    assert found['carried_probe_absent']['error'].startswith(
        'ModuleNotFoundError')
    assert elsewhere['carried_probe_mod']['from_site'] is False
    assert nowhere['carried_probe_mod']['from_site'] is False


def test_budget_must_be_positive() -> None:
    with pytest.raises(SystemExit):
        gpu_check.main(['--budget-s', '0'])


def test_without_cuda_the_check_is_the_cpu_fallback(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gpu_check.torch.cuda, 'is_available', lambda: False)
    args = gpu_check.parse_args(['--dry-run-tests', '--site', 'here'])
    assert args.cpu and args.dry_run_tests
    report = gpu_check.new_report(args, ['--dry-run-tests'])
    assert report['mode'] == 'cpu-fallback' and report['site'] == 'here'
    assert report['command'].endswith(
        '-m benchmarks.gpu.gpu_check --dry-run-tests')
    assert report['stages'] == {}
    monkeypatch.setattr(gpu_check.torch.cuda, 'is_available', lambda: True)
    assert not gpu_check.parse_args([]).cpu
    with pytest.raises(SystemExit):
        gpu_check.parse_args(['--dry-run-tests'])


class _Stages:
    """Records the stages that :func:`gpu_check.run_stages` starts."""

    def __init__(self, cpu: bool) -> None:
        self.cpu = cpu
        self.calls: list = []

    def cuda_tests(self, dry_run: bool = False) -> None:
        self.calls.append(('cuda_tests', dry_run))

    def benchmark(self, stage_name: str, extra: list) -> None:
        self.calls.append((stage_name, extra))


def test_stages_of_the_fallback_and_of_the_gpu() -> None:
    fallback = _Stages(cpu=True)
    gpu_check.run_stages(fallback, dry_run_tests=True)
    assert fallback.calls == [('cuda_tests', True),
                              ('benchmark_amp', ['--amp'])]
    gpu = _Stages(cpu=False)
    gpu_check.run_stages(gpu, dry_run_tests=False)
    assert gpu.calls == [
        ('cuda_tests', False),
        ('benchmark_amp',
         ['--amp', '--profile', '15', '--profile-step', 'train']),
        ('benchmark_fp32', []),
    ]
