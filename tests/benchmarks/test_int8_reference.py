"""benchmarks.int8_reference (OURS): int8 against fp32 on plain backbones."""
from pathlib import Path

import pytest

from benchmarks import int8_reference as bench
from tests.benchmarks.documented import run_writing_one_record
from tests.docs.blocks import commands_run_by

THIS_TEST = 'tests/benchmarks/test_int8_reference.py'


def test_the_documented_command_writes_a_complete_record(tmp_path: Path
                                                         ) -> None:
    """docs/notes/int8.md's command, at the small size its marker gives (a
    plain ResNet-18 at 64x64). The int8 graph is quantized for real (its
    features differ from fp32's but point the same way), and each row is
    in the record and its table."""
    [command] = commands_run_by(THIS_TEST)
    record = run_writing_one_record(bench.main, command, bench.MODULE,
                                    tmp_path / 'records')
    assert record['command'].startswith('python -m benchmarks.int8_reference')
    rows = record['results']['resnet18']
    for threads in ('1', '2'):
        row = rows[threads]
        assert row['timed_frames'] == 3 * 3 - 1  # 3 videos, the first untimed
        assert row['ratio'] == pytest.approx(row['int8_median_ms'] /
                                             row['fp32_median_ms'])
        assert 0 < row['max_abs_diff'] and row['min_cosine'] > 0.98
        assert f'| resnet18 | {threads} | ' in record['table']
