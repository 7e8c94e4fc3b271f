"""benchmarks.data_throughput: the recipes' pipelines give full clips.

docs/performance.md's command (its block is ``by`` this test,
:mod:`tests.docs.blocks`) is run here, read from the page with the
replacements its marker declares (2 clips of 2 short videos; ``$BENCH_JSON``:
a hand-written record of ``benchmarks.speed``), by calling
``benchmarks.data_throughput.main`` in-process with its arguments, as this
test did before it read them from the page.
"""
import json
from pathlib import Path

import pytest

from benchmarks import data_throughput as data_throughput
from tests.docs.blocks import commands_run_by, module_args

THIS_TEST = 'tests/benchmarks/test_data_throughput.py'


def test_data_pipelines_give_full_clips(capsys: pytest.CaptureFixture,
                                        tmp_path: Path) -> None:
    bench = tmp_path / 'bench.json'
    bench.write_text(
        json.dumps(
            dict(
                args=dict(batch=1),
                results={'IMG-Res2Net50': dict(train_step_s=2.0)})))
    [command] = commands_run_by(THIS_TEST)
    data_throughput.main(
        module_args(command, 'benchmarks.data_throughput',
                    dict(BENCH_JSON=str(bench))))
    out = capsys.readouterr().out
    assert 'rawframes (SthV1 train pipeline) |' in out
    assert 'video, decord (UCF101 train pipeline) |' in out
    assert '| IMG-Res2Net50 | 0.50 |' in out


def test_data_pipeline_rejects_a_wrong_clip_shape(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, ann = data_throughput.make_video_dataset(
        tmp_path, num_videos=1, num_frames=10, size=240)
    config, key = data_throughput.RECIPES[
        'video, decord (UCF101 train pipeline)']
    # The recipe crops 224: a clip of another size must be reported.
    monkeypatch.setattr(data_throughput, 'CROP', 200)
    with pytest.raises(ValueError, match=r'came out as \(8, 3, 224'):
        data_throughput.clips_per_second(config, key, root, ann, 0, 1)
