"""benchmarks.streaming: streaming vs window, on the tiny causal model.

docs/online.md's two commands (its block is ``by`` this test,
:mod:`tests.docs.blocks`) are run here, read from the page with the
replacements its marker declares (the tiny model at 32, 2 repeats, no
memory runs; ``$OUT``: this test's folder): the PyTorch rows' command with
bash from the clone, this venv's programs first on ``PATH`` (its allocator
setting takes effect at a process's start only), the ONNX Runtime rows' by
calling ``benchmarks.streaming.main`` in-process with its arguments, as
this test did before it read them from the page.
"""
import functools
import itertools
import json
import math
import mmap
import re
import shlex
import statistics
from pathlib import Path
from typing import List

import pytest
import torch

from benchmarks import streaming as benchmark
from img_mmaction.utils import environment
from tests.docs.blocks import (REPO, bash_environment, commands_run_by,
                               module_args, run_bash)

TINY = ['--model', 'tiny', '--size', '32', '--warmup', '0', '--repeats', '2']
THIS_TEST = 'tests/benchmarks/test_streaming.py'


def page_commands() -> List[str]:
    """The PyTorch rows' and the ONNX Runtime rows' command of the page,
    the marker's replacements applied."""
    return commands_run_by(THIS_TEST, count=2)


def test_latency_rows_json_and_equivalence(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    command = page_commands()[0]
    result = run_bash(command, REPO, bash_environment(OUT=str(tmp_path)))
    assert result.returncode == 0, result.stderr[-3000:]
    # The command's own variables (the allocator setting) were its
    # process's environment.
    words = shlex.split(command, comments=True)
    for word in itertools.takewhile(lambda w: re.match(r'\w+=', w), words):
        monkeypatch.setenv(*word.split('=', 1))
    assert 'GLIBC_TUNABLES' in environment.allocator()
    results = json.loads((tmp_path / 'torch.json').read_text())
    rows = results['rows']
    layouts = list(benchmark.LAYOUTS)
    assert list(rows) == [
        f'{mode}/{layout}' for layout in layouts for mode in benchmark.MODES
    ]
    # The streamed scores after 8 frames, in both layouts, are the window's.
    assert results['max_abs_diff'] < 1e-5
    fastest_window = min(rows[f'window/{layout}']['median_ms']
                         for layout in layouts)
    for layout in layouts:
        stream, window = rows[f'stream/{layout}'], rows[f'window/{layout}']
        # One frame instead of eight through the same network.
        assert stream['gflops'] * 8 == pytest.approx(
            window['gflops'], rel=0.01)
        # Each mode against the fastest window, whatever its layout.
        for row in (stream, window):
            assert row['vs_window'] == pytest.approx(row['median_ms'] /
                                                     fastest_window)
        assert stream['state_mib'] > 0 and window['state_mib'] == 0
        assert math.isnan(stream['extra_mib'])  # --skip-memory
        assert len(results['times'][f'stream/{layout}']) == 2
        # Page faults per prediction: the cost of memory the allocator gave
        # back to the system and takes again at every prediction.
        for mode in benchmark.MODES:
            faults = results['faults'][f'{mode}/{layout}']
            assert len(faults) == 2 and min(faults) >= 0
            assert rows[f'{mode}/{layout}']['faults_per_prediction'] == (
                statistics.median(faults))
    assert results['allocator'] == environment.allocator()
    table = result.stdout
    assert '| page faults per prediction |' in table
    assert 'allocator settings:' in table
    for layout in layouts:
        for mode in benchmark.MODES:
            assert table.count(f'\n| {mode} | {layout} |') == 1


def test_layouts_build_the_same_weights_in_their_own_layout() -> None:
    models = {
        layout: benchmark.build_model('tiny', 2, layout)
        for layout in benchmark.LAYOUTS
    }
    per_stage = models['nchw-stages-3-4'].backbone
    assert per_stage.layer2[0].conv1.weight.is_contiguous(
        memory_format=torch.channels_last)
    assert per_stage.layer3[0].conv1.weight.is_contiguous()
    states = [model.state_dict() for model in models.values()]
    for key, value in states[0].items():
        assert torch.equal(value, states[1][key]), key


@pytest.mark.slow  # one subprocess per mode
def test_memory_runs_in_fresh_processes(tmp_path: Path) -> None:
    out = tmp_path / 'streaming.json'
    benchmark.main(TINY + ['--memory-frames', '1', '--json', str(out)])
    rows = json.loads(out.read_text())['rows']
    for row in rows.values():
        assert row['peak_mib'] >= row['rss_built_mib'] > 0
        assert row['extra_mib'] == pytest.approx(row['peak_mib'] -
                                                 row['rss_built_mib'])


def test_onnxruntime_rows_json_and_equivalence(tmp_path: Path,
                                               capsys: pytest.CaptureFixture
                                               ) -> None:
    """Both modes as ONNX graphs: one row each, checked against PyTorch."""
    command = page_commands()[1]
    benchmark.main(
        module_args(command, 'benchmarks.streaming', dict(OUT=str(tmp_path))))
    results = json.loads((tmp_path / 'onnxruntime.json').read_text())
    rows = results['rows']
    assert list(rows) == ['stream/onnxruntime', 'window/onnxruntime']
    assert results['runtime'] == 'onnxruntime'
    # The ONNX stream after 8 frames and the ONNX window: PyTorch's window.
    assert results['max_abs_diff'] < 1e-5
    stream, window = rows['stream/onnxruntime'], rows['window/onnxruntime']
    assert stream['gflops'] * 8 == pytest.approx(window['gflops'], rel=0.01)
    assert stream['state_mib'] > 0
    assert window['vs_window'] == 1.0
    table = capsys.readouterr().out
    assert '\n| stream | onnxruntime |' in table
    assert 'runtime: ONNX Runtime' in table


def test_onnxruntime_windows_scores_are_pytorchs() -> None:
    model, _, torch_window = benchmark.build_runners('tiny', 8, 32,
                                                     'channels_last')
    with torch.no_grad():
        model.cls_head.fc_cls.weight.normal_(0, 1)  # scores far from uniform
    _, _, onnx_window = benchmark.build_runners('tiny', 8, 32, 'onnxruntime',
                                                'onnxruntime',
                                                model.state_dict())
    clip = benchmark._frames(8, 32)
    torch.testing.assert_close(
        onnx_window(clip), torch_window(clip), rtol=1e-5, atol=1e-6)


def test_stages_are_refused_with_onnxruntime(capsys: pytest.CaptureFixture
                                             ) -> None:
    with pytest.raises(SystemExit):
        benchmark.main(TINY + ['--runtime', 'onnxruntime', '--stages'])
    assert '--stages times PyTorch modules' in capsys.readouterr().err


@pytest.mark.slow  # one subprocess per mode
def test_onnxruntime_memory_runs_in_fresh_processes(tmp_path: Path) -> None:
    out = tmp_path / 'streaming.json'
    benchmark.main(TINY + [
        '--runtime', 'onnxruntime', '--memory-frames', '1', '--json',
        str(out)
    ])
    for row in json.loads(out.read_text())['rows'].values():
        assert row['peak_mib'] >= row['rss_built_mib'] > 0


def test_memory_of_reads_the_peak_of_this_process() -> None:
    result = benchmark.memory_of('stream', 'tiny', 32, 2, 1, 'nchw-stages-3-4')
    assert result['peak_mib'] >= result['rss_built_mib'] > 0


def test_page_faults_are_flagged_with_the_cure() -> None:
    rows = {
        'stream/channels_last': dict(faults_per_prediction=0),
        'window/channels_last': dict(faults_per_prediction=42743),
    }
    warning = benchmark.page_fault_warning(rows)
    assert 'window/channels_last: 42743' in warning
    assert benchmark.NO_TRIM_TUNABLES in warning
    rows['window/channels_last']['faults_per_prediction'] = 0
    assert benchmark.page_fault_warning(rows) is None
    rows['window/channels_last']['faults_per_prediction'] = None  # not Unix
    assert benchmark.page_fault_warning(rows) is None


def test_timed_call_counts_the_page_faults_of_the_call() -> None:
    """What one timed step reports: its wall time and the pages it took."""
    pages = 512

    def touch_fresh_pages() -> None:
        with mmap.mmap(-1, pages * mmap.PAGESIZE) as fresh:
            for page in range(pages):
                fresh[page * mmap.PAGESIZE] = 1

    elapsed, faults = benchmark.timed_call(touch_fresh_pages)
    assert elapsed > 0 and faults > 0
    # A difference around the call, not the process's count so far.
    elapsed, faults = benchmark.timed_call(lambda: None)
    assert faults < pages


def test_stage_times_per_frame(tmp_path: Path,
                               capsys: pytest.CaptureFixture) -> None:
    """``--stages``: each backbone stage's time, within each prediction."""
    out = tmp_path / 'streaming.json'
    benchmark.main(TINY + ['--skip-memory', '--stages', '--json', str(out)])
    results = json.loads(out.read_text())
    stages = benchmark.build_model('tiny', 2).backbone.res_layers
    for name, row in results['rows'].items():
        per_call = results['stage_times'][name]
        assert list(per_call) == stages
        totals = results['times'][name]
        # One call of each stage per timed prediction, and no other call.
        assert [len(times)
                for times in per_call.values()] == [len(totals)] * len(stages)
        for index, total in enumerate(totals):
            # The stages run inside the timed prediction.
            assert sum(times[index] for times in per_call.values()) < total
        frames = 8 if name.startswith('window/') else 1
        assert row['stage_ms_per_frame'] == {
            stage: pytest.approx(statistics.median(times) * 1e3 / frames)
            for stage, times in per_call.items()
        }
    table = capsys.readouterr().out
    assert '| stage | ' in table
    for stage in stages:
        assert table.count(f'\n| {stage} |') == 1


def test_stage_timer_stops_timing_when_removed() -> None:
    backbone = benchmark.build_model('tiny', 1).backbone
    timer = benchmark.StageTimer(backbone)
    frame = torch.zeros(1, 3, 32, 32)
    with torch.no_grad():
        backbone(frame)
        timer.remove()
        backbone(frame)
    assert [len(times) for times in timer.times.values()
            ] == [1] * len(backbone.res_layers)


def test_row_names_split_back_into_mode_and_layout() -> None:
    name = benchmark.row_name('window', 'nchw-stages-3-4')
    assert benchmark.split_row_name(name) == ('window', 'nchw-stages-3-4')


def test_latency_alternates_the_modes_frame_by_frame() -> None:
    calls: list = []
    modes = [
        benchmark.Mode(name, functools.partial(_record_call, calls, name))
        for name in ('stream/a', 'window/a', 'stream/b')
    ]
    times, faults = benchmark.measure_latency(modes, warmup=2, repeats=3)
    assert calls == [(name, index) for index in range(5)
                     for name in ('stream/a', 'window/a', 'stream/b')]
    for name in ('stream/a', 'window/a', 'stream/b'):
        assert len(times[name]) == len(faults[name]) == 3  # no warm-up
        assert min(times[name]) > 0


def _record_call(calls: list, name: str, index: int) -> None:
    calls.append((name, index))


def test_stage_times_drop_the_warm_up_and_stop_the_timers() -> None:
    backbone = benchmark.build_model('tiny', 1).backbone
    frame = torch.zeros(1, 3, 32, 32)
    mode = benchmark.Mode(
        'stream/x',
        functools.partial(_run, backbone, frame),
        timer=benchmark.StageTimer(backbone))
    with torch.no_grad():
        benchmark.measure_latency([mode], warmup=1, repeats=2)
        per_stage = benchmark.stage_times([mode], warmup=1)
        backbone(frame)  # timers removed: not counted
    assert list(per_stage) == ['stream/x']
    assert list(per_stage['stream/x']) == backbone.res_layers
    assert [len(calls) for calls in per_stage['stream/x'].values()
            ] == [2] * len(backbone.res_layers)
    assert [len(calls) for calls in mode.timer.times.values()
            ] == [3] * len(backbone.res_layers)


def _run(module: torch.nn.Module, frame: torch.Tensor, index: int) -> None:
    module(frame)


class _Fixed:
    """A runner or window that returns fixed scores."""

    def __init__(self, scores: torch.Tensor) -> None:
        self.scores = scores
        self.frames = 0

    def step(self, frame: torch.Tensor) -> torch.Tensor:
        self.frames += 1
        return self.scores[None]

    def __call__(self, clip: torch.Tensor) -> torch.Tensor:
        return self.scores


def test_equivalence_gap_is_the_larger_of_stream_and_window() -> None:
    reference = torch.tensor([0.5, 0.5])
    runner = _Fixed(torch.tensor([0.5, 0.25]))
    gap = benchmark.equivalence_gap(runner, _Fixed(torch.tensor([1.0, 0.5])),
                                    torch.zeros(4, 3, 2, 2), reference)
    assert gap == 0.5 and runner.frames == 4


def test_rows_compare_with_the_fastest_window_and_divide_stage_times() -> None:
    names = ['stream/a', 'window/a', 'stream/b', 'window/b']
    timed = dict(
        times=dict(zip(names, ([0.01, 0.03], [0.2, 0.4], [0.02], [0.1]))),
        faults={name: [0, 2]
                for name in names},
        state_mib={
            name: 1.5 if name.startswith('stream') else 0.0
            for name in names
        },
        stage_times={name: dict(layer1=[0.004])
                     for name in names})
    args = benchmark.build_parser().parse_args(['--skip-memory'])
    memory = benchmark.measure_memory(names, args)
    rows = benchmark.make_rows(
        timed, dict(stream=1.0, window=8.0), memory, window=8, stages=True)
    assert list(rows) == names
    assert rows['stream/a']['vs_window'] == pytest.approx(0.02 / 0.1)
    assert rows['window/a']['vs_window'] == pytest.approx(3.0)
    assert rows['window/b']['vs_window'] == 1.0
    assert rows['stream/a']['median_ms'] == pytest.approx(20)
    assert rows['stream/a']['faults_per_prediction'] == 1
    assert (rows['stream/b']['gflops'], rows['window/b']['gflops']) == (1, 8)
    assert (rows['stream/b']['state_mib'],
            rows['window/b']['state_mib']) == (1.5, 0.0)
    assert math.isnan(rows['window/a']['peak_mib'])
    assert rows['stream/a']['stage_ms_per_frame'] == dict(
        layer1=pytest.approx(4))
    assert rows['window/a']['stage_ms_per_frame'] == dict(
        layer1=pytest.approx(0.5))
