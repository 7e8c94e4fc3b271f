"""The synthetic video generator: order-paired classes, decodable mp4s."""
from pathlib import Path

import decord
import numpy as np
import pytest

from img_mmaction import synthetic


@pytest.mark.parametrize('label', [0, 2, 4, 6])
def test_reversing_a_clip_gives_its_paired_class(label: int) -> None:
    forward = synthetic.render_clip(label, seed=7, num_frames=12, size=48)
    backward = synthetic.render_clip(label + 1, seed=7, num_frames=12, size=48)
    assert synthetic.PAIRED_CLASS[label] == label + 1
    assert np.array_equal(forward[::-1], backward)
    # Frames carry motion: the clip is not constant in time.
    assert np.abs(np.diff(forward.astype(int), axis=0)).sum() > 0


def test_scenes_vary_with_the_seed() -> None:
    a = synthetic.render_clip(0, seed=1)
    b = synthetic.render_clip(0, seed=2)
    assert not np.array_equal(a, b)


def test_generate_writes_decodable_videos_and_caches(tmp_path: Path) -> None:
    out = synthetic.generate(
        tmp_path / 'd',
        videos_per_class=2,
        val_per_class=1,
        num_frames=8,
        size=32)
    train = (out / 'train.txt').read_text().split('\n')[:-1]
    assert len(train) == 16 and len(
        (out / 'val.txt').read_text().split('\n')[:-1]) == 8
    name, label = train[5].split()
    reader = decord.VideoReader(str(out / 'videos' / name))
    assert len(reader) == 8 and reader[0].shape == (32, 32, 3)
    assert int(label) == 2  # two videos per class, in class order
    stamp = (out / 'videos' / name).stat().st_mtime_ns
    synthetic.generate(
        tmp_path / 'd',
        videos_per_class=2,
        val_per_class=1,
        num_frames=8,
        size=32)
    assert (out / 'videos' / name).stat().st_mtime_ns == stamp
    with pytest.raises(ValueError, match='label must be in'):
        synthetic.render_clip(8, seed=0)
