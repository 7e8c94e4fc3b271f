"""benchmarks.int8_profile (OURS): where the frame step's time goes."""
from pathlib import Path

import pytest

from benchmarks import int8_profile as bench
from tests.benchmarks.documented import run_writing_one_record
from tests.docs.blocks import commands_run_by

THIS_TEST = 'tests/benchmarks/test_int8_profile.py'


def _run(ts: int, dur: int) -> dict:
    return dict(cat='Session', name='model_run', ts=ts, dur=dur)


def _node(op: str, ts: int, dur: int) -> dict:
    return dict(
        cat='Node',
        name=f'n{ts}_kernel_time',
        ts=ts,
        dur=dur,
        args=dict(op_name=op))


def test_kernel_times_sum_the_nodes_of_the_counted_runs() -> None:
    """Nodes of the first (skipped) run, and events that are not kernel
    times, are not counted; the rest are summed by op type."""
    events = [
        _run(0, 100),
        _node('Conv', 10, 50),  # the skipped run
        _run(200, 100),
        _node('Conv', 210, 30),
        _node('Mul', 250, 5),
        _run(400, 100),
        _node('Conv', 410, 20),
        dict(
            cat='Node',
            name='n1_fence_before',
            ts=420,
            dur=7,
            args=dict(op_name='Conv')),
        _node('Add', 350, 9),  # between runs
    ]
    assert bench.kernel_times(events, skip_runs=1) == (dict(Conv=50, Mul=5), 2)


def test_every_op_type_has_one_group() -> None:
    assert bench.group_of('QLinearConv') == 'int8 kernels'
    assert bench.group_of('Transpose') == 'layout and quantization'
    assert bench.group_of('Sigmoid') == bench.REST


def test_the_documented_command_writes_a_complete_record(tmp_path: Path
                                                         ) -> None:
    """docs/notes/int8.md's command, at the small size its marker gives:
    both graphs profiled at 1 and 2 threads, int8 with integer kernels
    and fp32 without, each group the sum of its op types."""
    [command] = commands_run_by(THIS_TEST)
    record = run_writing_one_record(bench.main, command, bench.MODULE,
                                    tmp_path / 'records')
    assert record['command'].startswith('python -m benchmarks.int8_profile')
    for precision in ('fp32', 'int8'):
        for threads in ('1', '2'):
            entry = record['profiles'][precision][threads]
            assert entry['frames'] == 3 * 4 - 1  # 3 clips, 1 frame warm-up
            by_op = entry['ms_by_op']
            assert ('QLinearConv' in by_op) == (precision == 'int8')
            for group, ms in entry['ms_by_group'].items():
                assert ms == pytest.approx(
                    sum(v for op, v in by_op.items()
                        if bench.group_of(op) == group),
                    abs=1e-3)
            assert entry['kernel_ms'] == pytest.approx(
                sum(by_op.values()), abs=1e-3)
    assert '| int8 kernels |' in record['table']
    assert '| **all kernels** |' in record['table']
