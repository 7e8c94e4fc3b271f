"""benchmarks.int8_layout (OURS, lab): the state declared channels-last."""
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from benchmarks import int8_layout as bench
from img_mmaction.deploy.onnx_stream import (OnnxStreamingRecognizer,
                                             session_options)
from img_mmaction.deploy.packaged_stream import cpu_session
from tests.benchmarks.documented import run_writing_one_record
from tests.docs.blocks import commands_run_by
from tests.models.test_streaming import SIZE, build

THIS_TEST = 'tests/benchmarks/test_int8_layout.py'


def test_a_channels_last_state_computes_the_same_step(tmp_path: Path) -> None:
    """Every 4-D state input and output is declared NHWC, ``frames``
    stays NCHW, and the rewritten graph gives the original's outputs once
    its state is transposed back (within float32 rounding: ONNX Runtime
    sums in another order where the layout differs)."""
    torch.manual_seed(0)
    runner = OnnxStreamingRecognizer(
        build(8), (SIZE, SIZE), threads=1, save_to=tmp_path / 'step.onnx')
    graph = (tmp_path / 'step.onnx').read_bytes()
    rewritten, names = bench.channels_last_state(graph)
    four_d = [
        value.name for value in onnx.load_from_string(graph).graph.input
        if len(value.type.tensor_type.shape.dim) == 4
    ]
    assert sorted(names) == sorted(set(four_d) - {'frames'}) and names
    shapes = {
        value.name: [d.dim_value for d in value.type.tensor_type.shape.dim]
        for value in onnx.load_from_string(rewritten).graph.input
    }
    for name in names:
        channels, height, width = runner.state_shapes[name]
        assert shapes[name][1:] == [height, width, channels]
    generator = np.random.default_rng(0)
    original = cpu_session(graph, session_options(1))
    feed = {
        value.name: (np.array([False]) if value.name == 'fresh' else
                     generator.random([1] + value.shape[1:], np.float32))
        for value in original.get_inputs()
    }
    [last_feed] = bench.channels_last_feeds([feed], names)
    outputs = original.run(None, feed)
    turned = cpu_session(rewritten, session_options(1)).run(None, last_feed)
    for value, expected, found in zip(original.get_outputs(), outputs, turned):
        if value.name[len('next/'):] in names:
            found = found.transpose(bench.TO_NCHW)
        np.testing.assert_allclose(found, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('spin', [False, True])
def test_the_sessions_spin_only_when_asked(tmp_path: Path, spin: bool) -> None:
    """``--spin`` gives all four sessions PackagedStreamRunner(spin=True)'s
    options: spinning while a run lasts, stopped when it ends."""
    torch.manual_seed(0)
    sessions = bench.build_sessions(build(8), SIZE, 1, 32, 2, tmp_path,
                                    spin)[0]
    assert list(sessions) == list(bench.SESSIONS)
    for session in sessions.values():
        options = session.get_session_options()
        assert options.get_session_config_entry(
            'session.intra_op.allow_spinning') == ('1' if spin else '0')
        if spin:
            assert options.get_session_config_entry(
                'session.force_spinning_stop') == '1'


def test_the_documented_commands_write_complete_records(tmp_path: Path
                                                        ) -> None:
    """docs/notes/int8.md's commands, at the small size their marker
    gives, without and with ``--spin``: four sessions, each as close to its
    layout twin as rounding allows (fp32: the same values; int8: calibrated
    on the same frames)."""
    commands = commands_run_by(THIS_TEST, count=2)
    for spin, command in zip((False, True), commands):
        record = run_writing_one_record(bench.main, command, bench.MODULE,
                                        tmp_path / f'records{int(spin)}')
        assert record['spin'] is spin
        rows = record['sessions']
        assert list(rows) == list(bench.SESSIONS)
        assert rows['fp32']['ratio'] == 1
        assert rows['fp32']['max_diff_from_twin'] == pytest.approx(0, abs=1e-5)
        assert record['calibration']['state_made_channels_last'] > 0
        for name, row in rows.items():
            assert row['median_ms'] > 0
            assert row['transposes'] == sum(
                row['transposes_by_neighbour'].values())
            assert f'| {name} | ' in record['table']
