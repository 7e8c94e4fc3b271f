"""analysis.streaming_speed: streaming vs window, on the tiny causal model."""
import json
import math
from pathlib import Path

import pytest

from img_mmaction.analysis import streaming_speed as benchmark

TINY = ['--model', 'tiny', '--size', '32', '--warmup', '0', '--repeats', '2']


def test_latency_rows_json_and_equivalence(tmp_path: Path,
                                           capsys: pytest.CaptureFixture
                                           ) -> None:
    out = tmp_path / 'streaming.json'
    benchmark.main(TINY + ['--skip-memory', '--json', str(out)])
    results = json.loads(out.read_text())
    stream, window = results['rows']['stream'], results['rows']['window']
    # The streamed scores after 8 frames are the window's.
    assert results['max_abs_diff'] < 1e-5
    # One frame instead of eight through the same network.
    assert stream['gflops'] * 8 == pytest.approx(window['gflops'], rel=0.01)
    assert stream['vs_window'] == pytest.approx(stream['median_ms'] /
                                                window['median_ms'])
    assert stream['state_mib'] > 0 and window['state_mib'] == 0
    assert math.isnan(stream['extra_mib'])  # --skip-memory
    assert len(results['times']['stream']) == 2
    table = capsys.readouterr().out
    assert table.count('\n| stream |') == 1
    assert table.count('\n| window |') == 1


@pytest.mark.slow  # one subprocess per mode
def test_memory_runs_in_fresh_processes(tmp_path: Path) -> None:
    out = tmp_path / 'streaming.json'
    benchmark.main(TINY + ['--memory-frames', '1', '--json', str(out)])
    rows = json.loads(out.read_text())['rows']
    for row in rows.values():
        assert row['peak_mib'] >= row['rss_built_mib'] > 0
        assert row['extra_mib'] == pytest.approx(row['peak_mib'] -
                                                 row['rss_built_mib'])


def test_memory_of_reads_the_peak_of_this_process() -> None:
    result = benchmark.memory_of('stream', 'tiny', 32, 2, 1)
    assert result['peak_mib'] >= result['rss_built_mib'] > 0
