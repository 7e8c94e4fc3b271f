"""diagnostics.dist_exit: real 2-process jobs counted; bad arguments refused"""
from pathlib import Path

import pytest

from benchmarks.diagnostics import dist_exit as dist_exit_check

pytestmark = pytest.mark.slow  # 2-process jobs


@pytest.mark.parametrize('job, port', [('collectives', 27900),
                                       ('train', 27910)])
def test_dist_exit_check_runs_real_two_process_jobs(
        job: str, port: int, tmp_path: Path,
        capsys: pytest.CaptureFixture) -> None:
    counts = dist_exit_check.main([
        '--job', job, '--runs', '1', '--only', 'with', '--port',
        str(port), '--log-dir',
        str(tmp_path)
    ])
    out = capsys.readouterr().out
    assert f'job: {job}' in out
    # Whether the job aborted at exit is the figure being measured, not
    # asserted; a failure of any other kind (a broken job) is a test failure,
    # and every failure leaves its log.
    failed = counts['with teardown']['failed']
    logs = [log.read_text() for log in tmp_path.iterdir()]
    assert counts['with teardown']['aborted'] == failed, logs
    assert f'| with teardown | 1 | {failed} |' in out
    assert len(logs) == failed


def test_dist_exit_check_train_job_is_mmaction_training() -> None:
    assert dist_exit_check.train_script().is_file()
    assert dist_exit_check.TRAIN_CONFIG.is_file()
    assert dist_exit_check.train_script().parts[-3:] == ('.mim', 'tools',
                                                         'train.py')


def test_dist_exit_check_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match='--runs'):
        dist_exit_check.count_failures(0, 27901)
    with pytest.raises(ValueError, match='--job'):
        dist_exit_check.count_failures(1, 27901, job='inference')
    with pytest.raises(ValueError, match='unknown settings'):
        dist_exit_check.count_failures(1, 27901, settings=('sometimes', ))
