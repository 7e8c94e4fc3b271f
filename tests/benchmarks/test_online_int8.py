"""benchmarks.online_int8 (OURS): int8 against fp32, one and many streams."""
from pathlib import Path

import pytest
import torch

from benchmarks import online_int8 as bench
from tests.benchmarks.documented import run_writing_one_record
from tests.docs.blocks import commands_run_by

THIS_TEST = 'tests/benchmarks/test_online_int8.py'


def test_the_schedule_is_seeded_and_cameras_stay_their_length() -> None:
    first = bench.StreamSchedule(
        4, videos=3, frames_per_video=10, min_stay=2, max_stay=5, seed=0)
    again = bench.StreamSchedule(
        4, videos=3, frames_per_video=10, min_stay=2, max_stay=5, seed=0)
    steps = [first.next_step() for _ in range(30)]
    assert steps == [again.next_step() for _ in range(30)]
    joined_at = {slot: [0] for slot in range(4)}
    for index, (joined, frames) in enumerate(steps):
        assert len(frames) == 4
        assert index > 0 or joined == []  # the first step starts them all
        for slot in joined:
            joined_at[slot].append(index)
        for video, frame in frames:
            assert 0 <= video < 3 and 0 <= frame < 10
    for slot, starts in joined_at.items():
        stays = [b - a for a, b in zip(starts, starts[1:])]
        # The first camera stays 1..max_stay (staggered); the others
        # min_stay..max_stay.
        assert stays and 1 <= stays[0] <= 5
        assert all(2 <= stay <= 5 for stay in stays[1:])
    # Consecutive frames of the camera a slot holds, between joins.
    for index in range(1, 30):
        joined, frames = steps[index]
        for slot in range(4):
            if slot in joined:
                continue
            video, frame = frames[slot]
            assert steps[index - 1][1][slot] == (video, (frame - 1) % 10)


def test_a_batch_with_joins_equals_each_camera_streamed_alone() -> None:
    """What the many-streams rows run: every slot's scores after every step
    are those of its camera's frames since it joined, streamed alone."""
    from img_mmaction.deploy.onnx_stream import OnnxStreamingRecognizer
    model = bench.build_model('tiny', 32, 'none')
    clips = [torch.rand(6, 3, 32, 32) * 255 for _ in range(2)]
    batch = OnnxStreamingRecognizer(model, (32, 32), threads=1)
    alone = OnnxStreamingRecognizer(model, (32, 32), threads=1)
    schedule = bench.StreamSchedule(
        3, videos=2, frames_per_video=6, min_stay=2, max_stay=4, seed=1)
    history = {slot: [] for slot in range(3)}
    joins = 0
    for _ in range(12):
        joined, frames = schedule.next_step()
        joins += len(joined)
        scores, seconds, faults = bench.advance(batch, joined,
                                                bench.gather(clips, frames))
        assert scores.shape == (3, model.cls_head.num_classes)
        assert seconds > 0
        for slot, (video, frame) in enumerate(frames):
            if slot in joined:
                history[slot] = []
            history[slot].append(clips[video][frame])
            alone.reset()
            for one in history[slot]:
                expected = alone.step(one[None])
            torch.testing.assert_close(
                scores[slot:slot + 1], expected, rtol=1e-4, atol=1e-5)
    assert joins >= 3  # cameras did leave and join


def test_targets_are_judged_on_every_run_of_the_record() -> None:
    side = {
        '1': dict(ratio=0.45),
        '2': dict(ratio=0.52),
    }

    def row(fp32: float, int8: float) -> dict:
        return dict(fp32=dict(fps_total=fp32), int8=dict(fps_total=int8))

    streams = {
        '1': {
            'groups_1': row(5.0, 10.0)
        },
        '8': {
            'groups_1': row(7.0, 14.0),
            'groups_2': row(7.6, 16.0)
        },
    }
    targets = bench.judge(side, streams)
    assert targets['int8_at_most_half_of_fp32'] == dict(
        threads_1=True, threads_2=False)
    # B=8 in each grouping against B=1 in one group.
    assert targets['b8_total_fps_at_least_1.5x_b1'] == {
        'fp32, 1 group': False,
        'int8, 1 group': False,
        'fp32, 2 groups': True,
        'int8, 2 groups': True
    }
    assert bench.judge(side, {'1': streams['1']
                              })['b8_total_fps_at_least_1.5x_b1'] == {}


def test_the_documented_command_writes_a_complete_record(tmp_path: Path
                                                         ) -> None:
    """docs/online.md's command, at the tiny size its marker gives."""
    [command] = commands_run_by(THIS_TEST)
    record = run_writing_one_record(bench.main, command,
                                    'benchmarks.online_int8',
                                    tmp_path / 'records')
    assert record['command'].startswith('python -m benchmarks.online_int8')
    for threads in ('1', '2'):
        row = record['side_by_side'][threads]
        assert row['fp32_median_ms'] > 0 and row['int8_median_ms'] > 0
        assert row['ratio'] == pytest.approx(row['int8_median_ms'] /
                                             row['fp32_median_ms'])
        assert row['timed_frames'] > 0
        assert 0.0 <= row['top1_agreement'] <= 1.0
    for precision in ('fp32', 'int8'):
        memory = record['memory'][precision]
        assert memory['extra_mib'] >= 0
        for streams, groups in (('1', 1), ('2', 1), ('2', 2)):
            row = record['many_streams'][streams][f'groups_{groups}']
            assert row[precision]['fps_total'] == pytest.approx(
                int(streams) * 1000 / row[precision]['step_median_ms'])
            assert row[precision]['timed_steps'] == 3
        # One stream runs in one group only.
        assert set(record['many_streams']['1']) == {'groups_1'}
    assert record['calibration']['frames'] >= 32
    assert 'max_abs_diff' in record['calibration']['check']
    assert set(record['targets']) == {
        'int8_at_most_half_of_fp32', 'b8_total_fps_at_least_1.5x_b1'
    }
    assert '| threads |' in record['table'] and '| B |' in record['table']
