"""benchmarks.int8_reference (OURS): int8 against fp32 on plain backbones."""
import json
from pathlib import Path

import pytest

from benchmarks import int8_reference as bench
from tests.docs.blocks import commands_run_by, module_args

THIS_TEST = 'tests/benchmarks/test_int8_reference.py'


def test_the_documented_command_writes_a_complete_record(tmp_path: Path
                                                         ) -> None:
    """docs/notes/int8.md's command, at the small size its marker gives (a
    plain ResNet-18 at 64x64). The int8 graph is quantized for real (its
    features differ from fp32's but point the same way), and each row is
    in the record and its table."""
    commands = commands_run_by(THIS_TEST)
    out = tmp_path / 'records'
    record = bench.main(
        module_args(commands[0], bench.MODULE, dict(OUT=str(out))))
    files = list(out.glob('*.json'))
    assert len(files) == 1
    assert json.loads(files[0].read_text()) == record
    assert record['command'].startswith('python -m benchmarks.int8_reference')
    rows = record['results']['resnet18']
    for threads in ('1', '2'):
        row = rows[threads]
        assert row['timed_frames'] == 3 * 3 - 1  # 3 videos, the first untimed
        assert row['ratio'] == pytest.approx(row['int8_median_ms'] /
                                             row['fp32_median_ms'])
        assert 0 < row['max_abs_diff'] and row['min_cosine'] > 0.98
        assert f'| resnet18 | {threads} | ' in record['table']
