"""benchmarks.speed: FLOPs, params, timings and memory of IMG, TSM, TSN.

The benchmark commands of docs/gpu.md and docs/performance.md (blocks
``by`` this test, :mod:`tests.docs.blocks`) are run here, read from the
pages with the replacements their markers declare (``$OUT``: this test's
folder), by calling ``benchmarks.speed.main`` in-process with each command's
arguments, as this test did before it read them from the pages.
"""
import json
from pathlib import Path
from typing import Dict, List

import pytest
import torch
import torch.nn as nn

from benchmarks import speed as benchmark
from tests.docs.blocks import REPO, blocks_run_by, module_args

#: ResNet-50 without its fc (torchvision's 25,557,032 minus 2048*1000+1000)
#: plus a 174-class fc.
TSM_R50_PARAMS = 23_508_032 + 2048 * 174 + 174
THIS_TEST = 'tests/benchmarks/test_speed.py'


def page_commands(page: str, out: Path) -> List[List[str]]:
    """The arguments of each ``python -m benchmarks.speed`` in the block of
    ``page`` that this test runs, the marker's replacements applied."""
    blocks = [b for b in blocks_run_by(THIS_TEST) if b.page == REPO / page]
    assert len(blocks) == 1, [b.where for b in blocks_run_by(THIS_TEST)]
    env: Dict[str, str] = dict(OUT=str(out))
    return [
        module_args(command, 'benchmarks.speed', env)
        for command in blocks[0].commands()
    ]


def test_saved_activation_bytes_counts_each_storage_once_without_weights(
) -> None:
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
    x = torch.randn(5, 8)
    # Saved: x by the first linear (5*8 floats), the ReLU output by ReLU
    # and by the second linear (the same storage, 5*16 floats); the
    # weights are parameters and do not count.
    got = benchmark.saved_activation_bytes(lambda: model(x).sum().backward(),
                                           model)
    assert got == (5 * 8 + 5 * 16) * 4


def test_benchmark_table_and_json(tmp_path: Path,
                                  capsys: pytest.CaptureFixture) -> None:
    """docs/gpu.md's command on the CPU: 2 clips of 8 frames at 32, the
    latency at 1 clip, one repeat, the profile; its JSON to ``$OUT``."""
    commands = page_commands('docs/gpu.md', tmp_path)
    assert len(commands) == 1, commands
    benchmark.main(commands[0])
    report = json.loads((tmp_path / 'bench.json').read_text())
    results = report['results']
    assert list(results) == ['IMG-Res2Net50', 'TSM-R50', 'TSN-R50']
    tsm, tsn, img = (
        results[k] for k in ('TSM-R50', 'TSN-R50', 'IMG-Res2Net50'))
    assert round(tsm['mparams'] * 1e6) == TSM_R50_PARAMS
    # The shift has no parameters and no multiply-adds.
    assert tsn['mparams'] == tsm['mparams']
    assert tsn['gflops'] == tsm['gflops']
    assert img['gflops'] > tsm['gflops']
    assert tsm['forward_vs_tsm'] == tsm['train_vs_tsm'] == 1.0
    assert img['forward_vs_tsm'] == pytest.approx(img['forward_s'] /
                                                  tsm['forward_s'])
    for row in results.values():
        assert row['forward_batch'] == 1 and row['train_batch'] == 2
        assert row['train_clips_per_s'] == pytest.approx(2 /
                                                         row['train_step_s'])
    # TSM keeps its shifted copies for backward; TSN does not shift.
    assert tsm['saved_act_mib'] > tsn['saved_act_mib'] > 0
    assert report['environment']['torch'] == torch.__version__
    assert report['environment']['device'] == 'cpu'
    printed = capsys.readouterr().out
    assert printed.count('\n| ') == 4  # header + 3 models
    assert 'train 2x8x3x32x32, forward 1x8x3x32x32' in printed


def test_the_commands_of_the_performance_table(tmp_path: Path) -> None:
    """docs/performance.md's two commands, small: the JSON that
    data_throughput reads, then every model in channels_last."""
    first, second = page_commands('docs/performance.md', tmp_path)
    benchmark.main(first)
    # What benchmarks.data_throughput --bench-json reads.
    bench = json.loads((tmp_path / 'bench.json').read_text())
    assert bench['args']['batch'] == 1
    assert list(bench['results']) == list(benchmark.MODELS_TO_RUN)
    assert all(row['train_step_s'] > 0 for row in bench['results'].values())
    report = benchmark.main(second)
    assert report['args']['channels_last'] is True
    assert list(report['results']) == list(benchmark.MODELS_TO_RUN)


def test_top_ops_lists_the_operators_of_a_call() -> None:
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU())
    table = benchmark.top_ops(lambda: model(torch.randn(4, 8)), rows=20)
    assert 'Self CPU' in table
    assert 'aten::addmm' in table and 'aten::relu' in table


def test_benchmark_keeps_each_model_in_its_own_layout() -> None:
    from mmaction.registry import MODELS
    img = MODELS.build(benchmark.res2net_img(8))
    tsm = MODELS.build(benchmark.tsm_r50(8))

    def layouts(model: nn.Module) -> set:
        # Kernels wider than 1x1, whose two layouts differ.
        return {
            p.is_contiguous(memory_format=torch.channels_last)
            for p in model.parameters() if p.dim() == 4 and p.shape[-1] > 1
        }

    cpu = torch.device('cpu')
    assert layouts(benchmark.place(img, cpu, False)) == {True}
    assert layouts(benchmark.place(tsm, cpu, False)) == {False}
    assert layouts(benchmark.place(tsm, cpu, True)) == {True}


def test_benchmark_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match='--repeats must be >= 1'):
        benchmark.main(['--repeats', '0'])
    with pytest.raises(ValueError, match='--infer-batch must be >= 1'):
        benchmark.main(['--infer-batch', '0'])


class _Recorder(nn.Module):
    """A stand-in recognizer: logs each ``extract_feat`` call's mode."""

    def __init__(self, name: str, log: list) -> None:
        super().__init__()
        self.name, self.log = name, log
        self.fc = nn.Linear(4, 174)

    def extract_feat(self, inputs: torch.Tensor, stage: str) -> tuple:
        self.log.append((self.name, 'train' if self.training else 'eval'))
        return self.fc(inputs), None


def _workload(batch: int = 2) -> 'benchmark.Workload':
    cpu = torch.device('cpu')
    return benchmark.Workload(cpu, torch.randn(batch, 4), torch.randn(1, 4),
                              torch.zeros(batch, dtype=torch.long),
                              torch.autocast('cpu', enabled=False))


def test_time_steps_alternate_the_models_in_every_round() -> None:
    log: list = []
    models = {name: _Recorder(name, log) for name in ('a', 'b')}
    samples = benchmark.time_steps(models, _workload(), warmup=1, repeats=2)
    assert log == [('a', 'eval'), ('a', 'train'), ('b', 'eval'),
                   ('b', 'train')] * 3
    for name in models:
        assert [len(samples[name][step])
                for step in ('forward', 'train')] == [2, 2]
        assert min(samples[name]['forward'] + samples[name]['train']) > 0


def test_rows_medians_throughput_memory_and_ratios() -> None:
    row = benchmark.timing_row(
        dict(forward=[3.0, 1.0, 2.0], train=[4.0, 8.0, 6.0]),
        infer_batch=1,
        batch=3)
    assert row == dict(
        forward_s=2.0,
        forward_batch=1,
        train_step_s=6.0,
        train_batch=3,
        train_clips_per_s=0.5)
    memory = benchmark.memory_row(_Recorder('a', []), _workload(batch=5))
    # Saved for backward: the linear's input [5, 4] (its weight is a
    # parameter), the log-softmax [5, 174], the int64 labels [5] and the
    # loss's total weight (one float).
    assert memory == dict(
        saved_act_mib=(5 * 4 * 4 + 5 * 174 * 4 + 5 * 8 + 4) / 2**20)
    results = {
        'TSM-R50': dict(forward_s=2.0, train_step_s=4.0),
        'IMG-Res2Net50': dict(forward_s=3.0, train_step_s=5.0)
    }
    benchmark.add_ratios(results)
    assert results['IMG-Res2Net50']['forward_vs_tsm'] == 1.5
    assert results['IMG-Res2Net50']['train_vs_tsm'] == 1.25
    assert results['TSM-R50']['forward_vs_tsm'] == 1.0


def test_check_args_fills_the_inference_batch() -> None:
    args = benchmark.build_parser().parse_args(['--batch', '4'])
    benchmark.check_args(args)
    assert args.infer_batch == 4
    with pytest.raises(ValueError, match='--warmup must be >= 0'):
        benchmark.check_args(benchmark.build_parser().parse_args(
            ['--warmup', '-1']))
