"""benchmarks.int8_accuracy (OURS): fp32 and int8 streams on the val set.

docs/notes/int8.md's blocks ``by`` this test (:mod:`tests.docs.blocks`):
the demo's two commands and the motion benchmark's, run in-process
(``main`` with the arguments of each ``python -m benchmarks.int8_accuracy``
line, :func:`~tests.benchmarks.documented.run_writing_one_record`) with
``$WORK`` and ``$OUT`` folders of the test.
"""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmarks import int8_accuracy as bench
from img_mmaction.utils import config_path
from tests.benchmarks.documented import run_writing_one_record
from tests.demo.test_stream import save_untrained
from tests.docs.blocks import Block, blocks_run_by

THIS_TEST = 'tests/benchmarks/test_int8_accuracy.py'


def documented(data: str) -> Block:
    """The page's one block of commands on ``data`` (a ``--data``)."""
    blocks = blocks_run_by(THIS_TEST)
    on_bench = [b for b in blocks if '--data motion-bench' in b.text]
    chosen = on_bench if data == 'motion-bench' else [
        b for b in blocks if b not in on_bench
    ]
    assert len(chosen) == 1, [b.where for b in blocks]
    return chosen[0]


def test_agreement_and_differences_against_a_hand_computation() -> None:
    # [F=2 frame positions, N=3 videos, K=3 classes]
    fp32 = np.array([[[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8]],
                     [[0.1, 0.7, 0.2], [0.4, 0.3, 0.3], [0.3, 0.3, 0.4]]])
    int8 = np.array([[[0.5, 0.4, 0.1], [0.3, 0.4, 0.3], [0.1, 0.2, 0.7]],
                     [[0.1, 0.6, 0.3], [0.2, 0.5, 0.3], [0.3, 0.3, 0.4]]])
    # top-1: fp32 [0, 1, 2], [1, 0, 2]; int8 [0, 1, 2], [1, 1, 2]
    assert bench.frame_agreement(fp32, int8) == (5 / 6, 5, 6)
    np.testing.assert_allclose(
        bench.max_score_difference(fp32, int8), [0.1, 0.2], atol=1e-12)
    figures = bench.figures(fp32, int8, labels=np.array([1, 1, 2]))
    # After the last frame: fp32 right on videos 0 and 2, int8 on all 3.
    assert figures['top1_fp32'] == pytest.approx(2 / 3)
    assert figures['top1_int8'] == pytest.approx(1.0)
    assert figures['top1_difference'] == pytest.approx(1 / 3)
    assert figures['per_frame_agreement'] == pytest.approx(5 / 6)
    assert figures['frames_compared'] == 6
    assert figures['targets_met'] == dict(top1=False, agreement=False)
    # The one differing frame (position 1, video 1): fp32 0.4 vs 0.3.
    assert figures['max_fp32_margin_where_differing'] == pytest.approx(0.1)
    same = bench.figures(fp32, fp32, labels=np.array([1, 1, 2]))
    assert same['targets_met'] == dict(top1=True, agreement=True)
    assert same['max_fp32_margin_where_differing'] is None


def test_differing_frames_are_counted_by_fp32s_lead() -> None:
    """Each frame falls in the bin of fp32's top-1 lead over its second;
    a bin counts its frames and those where the other runner differs."""
    # [F=1, N=4 videos, K=2 classes]: leads 0.004, 0.02, 0.06, 0.5
    fp32 = np.array([[[0.502, 0.498], [0.49, 0.51], [0.53, 0.47], [0.75,
                                                                   0.25]]])
    other = np.array([[[0.4, 0.6], [0.52, 0.48], [0.53, 0.47], [0.75, 0.25]]])
    # top-1 differs on videos 0 and 1
    bins = bench.differing_by_fp32_lead(fp32, other)
    assert bins == [
        dict(lead_from=0.0, lead_below=0.01, frames=1, differing=1),
        dict(lead_from=0.01, lead_below=0.03, frames=1, differing=1),
        dict(lead_from=0.03, lead_below=0.1, frames=1, differing=0),
        dict(lead_from=0.1, lead_below=None, frames=1, differing=0),
    ]
    assert bench.figures(fp32, other,
                         np.zeros(4, int))['differing_by_fp32_lead'] == bins
    noise = bench.noise_floor(fp32, other, 0.5)
    assert noise['differing_by_fp32_lead'] == bins


def test_records_are_never_overwritten(tmp_path: Path) -> None:
    record = dict(date='2026-12-07T10:00:00', seed=3, figures={})
    first = bench.write_record(tmp_path, record)
    second = bench.write_record(tmp_path, record)
    assert first != second and first.parent == second.parent == tmp_path
    assert json.loads(first.read_text()) == json.loads(second.read_text())
    assert len(list(tmp_path.glob('*.json'))) == 2


@pytest.mark.slow  # mim train and mim test in subprocesses
def test_the_documented_commands_write_complete_records(tmp_path: Path
                                                        ) -> None:
    """docs/notes/int8.md's two commands, at the size its marker gives:
    a training run, then one on the checkpoint it wrote."""
    commands = documented('motion-demo').commands()
    assert len(commands) == 2, commands
    out, env = tmp_path / 'records', dict(WORK=str(tmp_path / 'work'))
    record, again = [
        run_writing_one_record(bench.main, command, 'benchmarks.int8_accuracy',
                               out, env) for command in commands
    ]
    # The same checkpoint, calibration and val set: the same figures.
    assert again['figures'] == record['figures']
    for key in ('date', 'machine', 'command', 'versions', 'data', 'recipe',
                'seed', 'epochs', 'calibration', 'figures', 'per_frame'):
        assert key in record
    assert record['command'].startswith('python -m benchmarks.int8_accuracy')
    assert record['data'] == 'motion-demo'
    per_frame = record['per_frame']
    labels = per_frame['labels']
    fp32, int8 = np.array(per_frame['fp32_top1']), np.array(
        per_frame['int8_top1'])
    # 8 val videos (1 per class), 16 inputs each at stride 1.
    assert fp32.shape == int8.shape == (16, 8) and len(labels) == 8
    figures = record['figures']
    same = sum(
        int(a == b) for row_a, row_b in zip(fp32, int8)
        for a, b in zip(row_a, row_b))
    assert figures['frames_compared'] == 128
    assert figures['per_frame_agreement'] == pytest.approx(same / 128)
    assert figures['top1_fp32'] == pytest.approx(
        np.mean(fp32[-1] == np.array(labels)))
    assert len(figures['max_score_difference_per_position']) == 16
    assert record['calibration']['frames'] == 64
    assert record['calibration']['videos'] == 4
    # The saved package streams the same scores as the runner it came from.
    assert record['package']['max_score_difference'] < 1e-5


def test_data_sets_the_recipe_sizes_and_records_folder() -> None:
    demo = bench.parse_args([])
    assert (demo.data, demo.recipe, demo.epochs, demo.videos_per_class,
            demo.val_per_class,
            demo.out) == ('motion-demo', bench.RECIPE, 12, 40, 10,
                          'benchmarks/records/int8_accuracy')
    motion = bench.parse_args(['--data', 'motion-bench'])
    assert (motion.recipe, motion.epochs, motion.videos_per_class,
            motion.val_per_class,
            motion.out) == (bench.BENCH_RECIPE, 8, 100, 40,
                            'benchmarks/records/int8_accuracy/motion-bench')
    assert bench._run_name(motion) == 'motion-bench_seed0_e8'
    given = bench.parse_args(
        ['--data', 'motion-bench', '--epochs', '2', '--out', 'elsewhere'])
    assert (given.epochs, given.out, given.val_per_class) == (2, 'elsewhere',
                                                              40)


def test_keep_float_adds_patterns_to_the_scheme() -> None:
    """--keep-float: node-name patterns that stay float, on top of the
    scheme's own (cmem-float keeps '*/cmem/*')."""
    from benchmarks.int8_schemes import SCHEMES
    plain = bench.parse_args([])
    assert bench.scheme_of(plain) == SCHEMES['default']
    both = bench.parse_args(
        ['--scheme', 'cmem-float', '--keep-float', '*/layer1/*', '*/layer2/*'])
    scheme = bench.scheme_of(both)
    assert scheme.keep_float == ('*/cmem/*', '*/layer1/*', '*/layer2/*')
    assert scheme.stem_float and scheme.op_types == ('Conv', )


def test_motion_bench_streams_its_whole_val_set(tmp_path: Path) -> None:
    """--data motion-bench on an untrained checkpoint of its recipe (no
    mim): the benchmark's clips written into --work, streamed at the
    recipe's stride 2 (8 inputs of the 16 frames), the record naming the
    data."""
    checkpoint = save_untrained(
        config_path(bench.BENCH_RECIPE), tmp_path / 'untrained.pth')
    out, work = tmp_path / 'records', tmp_path / 'work'
    record = bench.main([
        '--data', 'motion-bench', '--checkpoint',
        str(checkpoint), '--work',
        str(work), '--out',
        str(out), '--videos-per-class', '1', '--val-per-class', '1',
        '--calibration-videos', '4'
    ])
    meta = json.loads((work / 'data-motion-bench' / 'meta.json').read_text())
    assert (meta['benchmark'], meta['videos_per_class'],
            meta['val_per_class']) == ('motion_bench', 1, 1)
    files = list(out.glob('*.json'))
    assert len(files) == 1 and json.loads(files[0].read_text()) == record
    assert (record['data'], record['recipe'],
            record['stride']) == ('motion-bench', bench.BENCH_RECIPE, 2)
    per_frame = record['per_frame']
    assert per_frame['labels'] == list(range(8))  # one val clip a class
    # 8 val clips, each streamed from frame 0 at stride 2: 8 inputs
    assert np.array(per_frame['fp32_top1']).shape == (8, 8)
    assert np.array(per_frame['int8_top1']).shape == (8, 8)
    figures = record['figures']
    assert figures['frames_compared'] == 64
    assert len(figures['max_score_difference_per_position']) == 8
    # 4 training clips x 8 inputs: the runner's minimum, no lab runner
    calibration = record['calibration']
    assert (calibration['frames'], calibration['videos'],
            calibration['below_minimum']) == (32, 4, False)
    assert Path(
        record['package']['file']).name == ('motion-bench_seed0_e8_int8.onnx')
    assert record['package']['max_score_difference'] < 1e-5
    # fp32 against itself on pixels moved by at most 0.5: the model's own
    # per-frame stability, over the same 64 frames
    noise = record['fp32_pixel_noise']
    assert noise['amplitude'] == 0.5 and noise['frames_compared'] == 64
    assert 0 <= noise['per_frame_agreement'] <= 1
    assert noise['max_score_difference'] > 0


def test_pixel_noise_moves_each_pixel_by_at_most_the_amplitude() -> None:
    """The noise of the fp32 noise floor: uniform in [-a, a] per pixel,
    added in float32 (uint8 frames are not cut back to whole values), the
    result kept in 0..255, the same for the same seed."""
    frames = torch.tensor([[0, 255], [100, 7]],
                          dtype=torch.uint8).expand(3, 2, 2)
    noisy = bench.with_pixel_noise(frames, 0.5, seed=1)
    assert noisy.shape == frames.shape and noisy.dtype == torch.float32
    moved = (noisy - frames.float()).abs()
    assert float(moved.max()) <= 0.5
    assert float(moved[:, 1].min()) > 0  # not rounded back to the pixel
    assert float(noisy.min()) >= 0 and float(noisy.max()) <= 255
    assert torch.equal(noisy, bench.with_pixel_noise(frames, 0.5, seed=1))
    assert not torch.equal(noisy, bench.with_pixel_noise(frames, 0.5, seed=2))
    assert torch.equal(
        bench.with_pixel_noise(frames.float(), 0.5, seed=1), noisy)


@pytest.mark.slow  # mim train and mim test in subprocesses
def test_the_documented_motion_bench_command(tmp_path: Path) -> None:
    """docs/notes/int8.md's motion-benchmark command, at the size its
    marker gives: the benchmark's clips, its recipe trained for 1 epoch
    through mim, the whole val set streamed."""
    commands = documented('motion-bench').commands()
    assert len(commands) == 1, commands
    record = run_writing_one_record(bench.main, commands[0],
                                    'benchmarks.int8_accuracy',
                                    tmp_path / 'records',
                                    dict(WORK=str(tmp_path / 'work')))
    assert (record['data'], record['recipe'],
            record['epochs']) == ('motion-bench', bench.BENCH_RECIPE, 1)
    training = record['training']
    assert Path(training['checkpoint']).parent.name == 'motion-bench_seed0_e1'
    assert training['train_s'] > 0 and 0 <= training['mim_test_top1'] <= 1
    assert record['figures']['frames_compared'] == 8 * 8  # clips x inputs
    noise = record['fp32_pixel_noise']  # the default noise floor
    assert (noise['amplitude'], noise['frames_compared']) == (0.5, 8 * 8)
