"""tools/benchmark.py, data_throughput.py and dist_exit_check.py, tiny runs."""
import json
from pathlib import Path

import pytest
import torch
import torch.nn as nn

from .tools import load_tool

benchmark = load_tool('benchmark')
data_throughput = load_tool('data_throughput')

#: ResNet-50 without its fc (torchvision's 25,557,032 minus 2048*1000+1000)
#: plus a 174-class fc.
TSM_R50_PARAMS = 23_508_032 + 2048 * 174 + 174


def test_saved_activation_bytes_counts_each_storage_once_without_weights(
) -> None:
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
    x = torch.randn(5, 8)
    # Saved: x by the first linear (5*8 floats), the ReLU output by ReLU
    # and by the second linear (the same storage, 5*16 floats); the
    # weights are parameters and do not count.
    got = benchmark.saved_activation_bytes(
        lambda: model(x).sum().backward(), model)
    assert got == (5 * 8 + 5 * 16) * 4


def test_benchmark_table_and_json(tmp_path: Path,
                                  capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / 'bench.json'
    benchmark.main(['--size', '32', '--warmup', '0', '--repeats', '1',
                    '--json', str(out)])
    results = json.loads(out.read_text())['results']
    assert list(results) == ['IMG-Res2Net50', 'TSM-R50', 'TSN-R50']
    tsm, tsn, img = (results[k] for k in ('TSM-R50', 'TSN-R50',
                                          'IMG-Res2Net50'))
    assert round(tsm['mparams'] * 1e6) == TSM_R50_PARAMS
    # The shift has no parameters and no multiply-adds.
    assert tsn['mparams'] == tsm['mparams']
    assert tsn['gflops'] == tsm['gflops']
    assert img['gflops'] > tsm['gflops']
    assert tsm['forward_vs_tsm'] == tsm['train_vs_tsm'] == 1.0
    assert img['forward_vs_tsm'] == pytest.approx(
        img['forward_s'] / tsm['forward_s'])
    # TSM keeps its shifted copies for backward; TSN does not shift.
    assert tsm['saved_act_mib'] > tsn['saved_act_mib'] > 0
    table = capsys.readouterr().out
    assert table.count('\n| ') == 4  # header + 3 models


def test_benchmark_keeps_each_model_in_its_own_layout() -> None:
    from mmaction.registry import MODELS
    img = MODELS.build(benchmark.res2net_img(8))
    tsm = MODELS.build(benchmark.tsm_r50(8))

    def layouts(model: nn.Module) -> set:
        # Kernels wider than 1x1, whose two layouts differ.
        return {p.is_contiguous(memory_format=torch.channels_last)
                for p in model.parameters()
                if p.dim() == 4 and p.shape[-1] > 1}

    cpu = torch.device('cpu')
    assert layouts(benchmark.place(img, cpu, False)) == {True}
    assert layouts(benchmark.place(tsm, cpu, False)) == {False}
    assert layouts(benchmark.place(tsm, cpu, True)) == {True}


def test_benchmark_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match='--repeats must be >= 1'):
        benchmark.main(['--repeats', '0'])


def test_data_pipelines_give_full_clips(capsys: pytest.CaptureFixture,
                                        tmp_path: Path) -> None:
    bench = tmp_path / 'bench.json'
    bench.write_text(json.dumps(dict(
        args=dict(batch=1),
        results={'IMG-Res2Net50': dict(train_step_s=2.0)})))
    data_throughput.main(['--clips', '2', '--videos', '2', '--frames', '10',
                          '--bench-json', str(bench)])
    out = capsys.readouterr().out
    assert 'rawframes (SthV1 train pipeline) |' in out
    assert 'video, decord (UCF101 train pipeline) |' in out
    assert '| IMG-Res2Net50 | 0.50 |' in out


def test_data_pipeline_rejects_a_wrong_clip_shape(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, ann = data_throughput.make_video_dataset(tmp_path, num_videos=1,
                                                   num_frames=10, size=240)
    config, key = data_throughput.RECIPES[
        'video, decord (UCF101 train pipeline)']
    # The recipe crops 224: a clip of another size must be reported.
    monkeypatch.setattr(data_throughput, 'CROP', 200)
    with pytest.raises(ValueError, match=r'came out as \(8, 3, 224'):
        data_throughput.clips_per_second(config, key, root, ann, 0, 1)


@pytest.mark.parametrize('job, port', [('collectives', 27900),
                                       ('train', 27910)])
def test_dist_exit_check_runs_real_two_process_jobs(
        job: str, port: int, tmp_path: Path,
        capsys: pytest.CaptureFixture) -> None:
    dist_exit_check = load_tool('dist_exit_check')
    counts = dist_exit_check.main(['--job', job, '--runs', '1', '--only',
                                   'with', '--port', str(port),
                                   '--log-dir', str(tmp_path)])
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
    dist_exit_check = load_tool('dist_exit_check')
    assert dist_exit_check.train_script().is_file()
    assert dist_exit_check.TRAIN_CONFIG.is_file()
    assert dist_exit_check.train_script().parts[-3:] == ('.mim', 'tools',
                                                         'train.py')


def test_dist_exit_check_refuses_bad_arguments() -> None:
    dist_exit_check = load_tool('dist_exit_check')
    with pytest.raises(ValueError, match='--runs'):
        dist_exit_check.count_failures(0, 27901)
    with pytest.raises(ValueError, match='--job'):
        dist_exit_check.count_failures(1, 27901, job='inference')
    with pytest.raises(ValueError, match='unknown settings'):
        dist_exit_check.count_failures(1, 27901, settings=('sometimes',))
