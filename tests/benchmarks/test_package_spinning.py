"""benchmarks.package_spinning (OURS): packages with and without spinning."""
from pathlib import Path

import pytest

from benchmarks import package_spinning as bench
from tests.benchmarks.documented import run_writing_one_record
from tests.docs.blocks import commands_run_by

THIS_TEST = 'tests/benchmarks/test_package_spinning.py'


def test_the_documented_command_writes_a_complete_record(tmp_path: Path
                                                         ) -> None:
    """docs/notes/int8.md's command, at the small size its marker gives
    (the tiny causal model at 56x56, one and two threads): the four
    runners timed side by side, in the record and its table."""
    [command] = commands_run_by(THIS_TEST)
    record = run_writing_one_record(bench.main, command, bench.MODULE,
                                    tmp_path / 'records')
    assert record['command'].startswith(
        'python -m benchmarks.package_spinning')
    assert set(record['results']) == {'1', '2'}
    for threads, row in record['results'].items():
        assert row['timed_frames'] == 3 * (4 - 2)  # 3 clips, 2 untimed each
        median = row['median_ms']
        assert set(median) == {
            'fp32, no spin', 'fp32, spin', 'int8, no spin', 'int8, spin'
        }
        assert row['int8_over_fp32']['spin'] == pytest.approx(
            median['int8, spin'] / median['fp32, spin'])
        assert row['spin_over_no_spin']['int8'] == pytest.approx(
            median['int8, spin'] / median['int8, no spin'])
        assert f'| {threads} | ' in record['table']
