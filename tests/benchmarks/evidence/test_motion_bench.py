"""The motion benchmark: order-blind families, real footage, cached dataset."""
import json
from pathlib import Path

import decord
import numpy as np
import pytest

from benchmarks.evidence import motion_bench as mb

HALF = mb.BenchOptions().num_frames // 2


@pytest.mark.parametrize('label', [0, 4, 6])
def test_reversing_a_clip_gives_its_paired_class(label: int) -> None:
    forward = mb.render_bench_clip(label, seed=11)
    backward = mb.render_bench_clip(label + 1, seed=11)
    assert np.array_equal(forward[::-1], backward)
    assert np.abs(np.diff(forward.astype(int), axis=0)).sum() > 0


def _scene_track(label: int, seed: int, index: int = 0) -> np.ndarray:
    """An object's track in the scene (screen position + camera)."""
    _, tracks, camera = mb.render_bench_clip(label, seed, return_tracks=True)
    return tracks[index] + camera


@pytest.mark.parametrize('seed', [0, 5])
def test_go_and_back_classes_hold_the_same_positions(seed: int) -> None:
    slide = _scene_track(0, seed)
    right_back = _scene_track(2, seed)
    left_back = _scene_track(3, seed)
    # Class 3 visits class 2's scene positions rolled by half the clip.
    np.testing.assert_allclose(
        left_back - left_back[0],
        np.roll(right_back, -HALF, 0) - right_back[HALF])
    # Class 2 goes class 0's distance (to the frame grid) and comes back.
    distance = np.ptp(slide[:, 0])
    assert np.ptp(right_back[:, 0]) == pytest.approx(distance *
                                                     (1 - 1 / (2 * HALF - 1)))
    assert right_back[0, 0] == pytest.approx(right_back[-1, 0])
    assert np.all(np.diff(slide[:, 0]) > 0) and np.ptp(slide[:, 1]) == 0


def test_turn_classes_move_along_x_then_along_y() -> None:
    track = _scene_track(6, 3)
    assert np.ptp(track[:HALF, 0]) > 1 and np.ptp(track[:HALF, 1]) < 1e-9
    assert np.ptp(track[HALF:, 0]) < 1e-9 and np.ptp(track[HALF:, 1]) > 1
    # Each half goes and comes back.
    np.testing.assert_allclose(track[0], track[HALF - 1])
    np.testing.assert_allclose(track[HALF], track[-1])


def test_drift_moves_against_the_scene() -> None:
    frames, tracks, camera = mb.render_bench_clip(4, 2, return_tracks=True)
    scene = tracks[0] + camera
    speed = np.diff(scene[:, 0])
    low, high = mb.BenchOptions().drift_speed
    assert np.all(speed > 0) and low <= speed.mean() <= high
    assert np.ptp(camera, 0).max() > 0  # the camera pans


@pytest.mark.parametrize(
    'side', mb.BenchOptions().object_side, ids=['smallest', 'largest'])
def test_every_class_fits_many_scenes(side: int) -> None:
    """Both ends of the default range of sides, every object of ``side``:
    the largest is where the far margin's bound is tightest."""
    options = mb.BenchOptions(object_side=(side, side))
    for label in range(len(mb.CLASS_NAMES)):
        for seed in range(40):
            _, tracks, _ = mb.render_bench_clip(
                label, seed, options, return_tracks=True)
            for track in tracks:
                assert track.min() >= options.margin - 0.5
                assert track.max() <= options.size - options.margin - \
                    side + 0.5


def test_order_blind_ceiling_counts_one_class_per_family() -> None:
    assert mb.order_blind_ceiling(range(8)) == 3 / 8
    # The most frequent class of each family: 2 of (0..3), 1 of 4/5, 1 of
    # 6/7, out of 6.
    assert mb.order_blind_ceiling([0, 0, 1, 4, 6, 7]) == pytest.approx(4 / 6)
    assert sorted(c for g in mb.ORDER_BLIND_GROUPS
                  for c in g) == list(range(8))
    assert sorted(c for g in mb.CLASS_GROUPS.values()
                  for c in g) == list(range(8))


def test_errors_name_the_argument() -> None:
    with pytest.raises(ValueError, match='label must be in'):
        mb.render_bench_clip(8, seed=0)
    with pytest.raises(ValueError, match='num_frames must be even'):
        mb.BenchOptions(num_frames=15)
    with pytest.raises(ValueError, match='travel'):
        mb.BenchOptions(travel=(0.3, 0.2))
    with pytest.raises(ValueError, match='does not fit'):
        mb.render_bench_clip(0, 0, mb.BenchOptions(travel=(0.9, 0.9)))


def test_generate_bench_writes_videos_meta_and_caches(tmp_path: Path) -> None:
    out = mb.generate_bench(
        tmp_path / 'd', videos_per_class=1, val_per_class=1)
    train = (out / 'train.txt').read_text().split()
    assert train[0::2] == [f'train/{c}_0000.mp4' for c in range(8)]
    assert train[1::2] == [str(c) for c in range(8)]
    reader = decord.VideoReader(str(out / 'videos' / 'val' / '7_0000.mp4'))
    assert len(reader) == 16 and reader[0].shape == (64, 64, 3)
    meta = json.loads((out / 'meta.json').read_text())
    assert meta['class_groups'] == {
        'short': [0, 1, 4, 5],
        'long': [2, 3, 6, 7]
    }
    assert meta['order_blind_ceiling'] == 3 / 8
    assert meta['footage'] == list(mb.FOOTAGE)
    assert (out / 'label_map.txt').read_text().splitlines() == \
        mb.CLASS_NAMES
    stamp = (out / 'videos' / 'train' / '0_0000.mp4').stat().st_mtime_ns
    mb.generate_bench(tmp_path / 'd', videos_per_class=1, val_per_class=1)
    assert (out / 'videos' / 'train' /
            '0_0000.mp4').stat().st_mtime_ns == stamp


def test_footage_is_scikit_videos_real_clips() -> None:
    clips = mb.load_footage(96)
    assert len(clips) == len(mb.FOOTAGE)
    for clip in clips:
        assert clip.dtype == np.uint8 and min(clip.shape[1:3]) == 96
        assert len(clip) >= 100
    with pytest.raises(FileNotFoundError, match='no sample clip'):
        mb.footage_path('missing.mp4')


def test_sampled_test_frames_are_the_test_pipelines() -> None:
    from mmengine.config import Config

    from img_mmaction.utils import config_path
    cfg = Config.fromfile(
        str(config_path('_base_/datasets/motion-bench_videos.py')))
    sampler = cfg.test_dataloader.dataset.pipeline[1]
    assert sampler['type'] == 'SampleFrames'
    assert sampler['num_clips'] == 8 and sampler['test_mode']
    frames = mb.sampled_test_frames(mb.BenchOptions().num_frames)
    assert frames.tolist() == list(range(1, 16, 2))


def test_classes_figure_is_written(tmp_path: Path) -> None:
    out = mb.plot_classes(tmp_path / 'classes.png')
    assert out.is_file() and out.read_bytes()[:4] == b'\x89PNG'
