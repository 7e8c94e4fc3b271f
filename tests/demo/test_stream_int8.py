"""The streaming command with an int8 frame step (OURS).

docs/notes/int8.md's stream commands (its block is ``by`` this test,
:mod:`tests.docs.blocks`) are read from the page with the replacements its
marker declares and run in-process, ``main`` with the arguments of each
``python -m img_mmaction.demo.stream`` line (:func:`module_args`), in this
test's folder: ``$CONFIG`` the stride-2 demo recipe, ``$CHECKPOINT`` an
untrained model of it, ``$INPUT`` a frame folder, ``$CALIBRATION`` four
other frame folders, ``$ANN`` and ``$VIDEOS`` a training set of 8 generated
videos.
"""
from pathlib import Path
from typing import Tuple

import numpy as np
import pytest
import torch

from img_mmaction.demo.stream import main, stream
from img_mmaction.testing import make_rawframe_dataset, make_video_dataset
from tests.demo.test_stream import ONLINE, save_untrained
from tests.docs.blocks import blocks_run_by, module_args

THIS_TEST = 'tests/demo/test_stream_int8.py'

#: int8 against fp32 on the untrained demo model: plumbing only (its scores
#: are nearly uniform); the bounds that mean something are in
#: tests/deploy/test_onnx_quantize.py.
SCORE_ATOL = 0.02


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    return save_untrained(ONLINE,
                          tmp_path_factory.mktemp('ckpt') / 'online.pth')


@pytest.fixture(scope='module')
def folders(tmp_path_factory: pytest.TempPathFactory) -> Tuple[Path, ...]:
    """Five frame folders of 16 frames (64x64; the recipe crops 56): one
    to stream, four to calibrate on."""
    root, _ = make_rawframe_dataset(
        tmp_path_factory.mktemp('frames'), num_videos=5, num_frames=16)
    return tuple(root / str(index) for index in range(1, 6))


def test_int8_on_given_videos_saves_a_package_that_loads_alone(
        checkpoint: Path, folders: Tuple[Path, ...], tmp_path: Path,
        capsys: pytest.CaptureFixture) -> None:
    video, calibration = str(folders[0]), [str(f) for f in folders[1:]]
    frames, expected, _ = stream(
        str(ONLINE), str(checkpoint), video, echo=False, runtime='onnxruntime')
    package = tmp_path / 'step_int8.onnx'
    int8_frames, scores, _ = stream(
        str(ONLINE),
        str(checkpoint),
        video,
        echo=False,
        runtime='onnxruntime',
        precision='int8',
        calibration=calibration,
        save_graph=str(package))
    # Stride 2 (the recipe's): 8 inputs per folder, 32 calibration frames.
    assert int8_frames == frames == list(range(0, 16, 2))
    np.testing.assert_allclose(scores, expected, rtol=0, atol=SCORE_ATOL)
    out = capsys.readouterr().out
    assert 'int8 frame step: 32 calibration frames of 4 videos' in out
    assert f'package: {package}' in out
    # The package alone, checked against this recipe and checkpoint.
    loaded_frames, loaded, _ = stream(
        str(ONLINE),
        str(checkpoint),
        video,
        echo=False,
        runtime='onnxruntime',
        load_graph=str(package))
    assert loaded_frames == frames
    np.testing.assert_allclose(loaded, scores, rtol=1e-5, atol=1e-6)
    # The same from the command line.
    assert main([
        str(ONLINE),
        str(checkpoint), video, '--runtime', 'onnxruntime', '--load-graph',
        str(package), '--precision', 'int8', '--timeline',
        str(tmp_path / 'int8.png')
    ]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sum(line.startswith('frame ') for line in lines) == 8
    assert any('int8 package' in line for line in lines)


def test_int8_calibrates_on_the_recipes_training_set_by_default(
        checkpoint: Path, folders: Tuple[Path, ...], tmp_path: Path,
        capsys: pytest.CaptureFixture) -> None:
    videos, ann = make_video_dataset(tmp_path / 'train', num_videos=5)
    status = main([
        str(ONLINE),
        str(checkpoint),
        str(folders[0]), '--runtime', 'onnxruntime', '--precision', 'int8',
        '--calibration-videos', '4', '--timeline',
        str(tmp_path / 't.png'), '--cfg-options',
        f'train_dataloader.dataset.ann_file={ann}',
        f'train_dataloader.dataset.data_prefix.video={videos}'
    ])
    assert status == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    # 4 of the 5 training videos, spread over the list, 8 inputs each at
    # the recipe's stride.
    assert 'int8 frame step: 32 calibration frames of 4 videos' in out
    assert 'of the training set' in out
    assert 'clip_0000.mp4' in out and 'clip_0004.mp4' in out


def test_int8_refusals_name_the_problem(checkpoint: Path, folders: Tuple[Path,
                                                                         ...],
                                        tmp_path: Path,
                                        capsys: pytest.CaptureFixture) -> None:
    video = str(folders[0])
    # One calibration folder: 8 frames of 1 video, below the minimum.
    assert main([
        str(ONLINE),
        str(checkpoint), video, '--runtime', 'onnxruntime', '--precision',
        'int8', '--calibration',
        str(folders[1])
    ]) == 1
    assert '8 frames in 1 clips' in capsys.readouterr().err
    assert main([str(ONLINE),
                 str(checkpoint), video, '--precision', 'int8']) == 1
    assert '--precision int8 needs --runtime onnxruntime' in (
        capsys.readouterr().err)
    # A package of other weights is refused, naming both fingerprints.
    package = tmp_path / 'p.onnx'
    assert main([
        str(ONLINE),
        str(checkpoint), video, '--runtime', 'onnxruntime', '--precision',
        'int8', '--calibration', *map(str, folders[1:]), '--save-graph',
        str(package), '--timeline',
        str(tmp_path / 'a.png')
    ]) == 0
    torch.manual_seed(1)
    other = save_untrained(ONLINE, tmp_path / 'other.pth')
    capsys.readouterr()
    assert main([
        str(ONLINE),
        str(other), video, '--runtime', 'onnxruntime', '--load-graph',
        str(package)
    ]) == 1
    error = capsys.readouterr().err
    assert 'p.onnx' in error and 'fingerprint' in error
    # An fp32 request for an int8 package.
    assert main([
        str(ONLINE),
        str(checkpoint), video, '--runtime', 'onnxruntime', '--load-graph',
        str(package), '--precision', 'fp32'
    ]) == 1
    assert "an int8 package, but --precision fp32" in capsys.readouterr().err


def test_the_documented_int8_commands(checkpoint: Path, folders: Tuple[Path,
                                                                       ...],
                                      tmp_path: Path,
                                      capsys: pytest.CaptureFixture,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = blocks_run_by(THIS_TEST)
    assert len(blocks) == 1, [b.where for b in blocks]
    videos, ann = make_video_dataset(tmp_path / 'train', num_videos=8)
    env = dict(
        CONFIG=str(ONLINE),
        CHECKPOINT=str(checkpoint),
        INPUT=str(folders[0]),
        CALIBRATION=' '.join(map(str, folders[1:])),
        ANN=str(ann),
        VIDEOS=str(videos))
    monkeypatch.chdir(tmp_path)
    commands = blocks[0].commands()
    assert len(commands) == 3, commands
    for command in commands:
        status = main(module_args(command, 'img_mmaction.demo.stream', env))
        assert status == 0, f'{command}\n{capsys.readouterr().err}'
    out = capsys.readouterr().out
    # Stride 2: 8 inputs of each 16-frame video; the default 8 training
    # videos, then the 4 named folders.
    assert ('int8 frame step: 64 calibration frames of 8 videos of the '
            'training set') in out
    assert 'int8 frame step: 32 calibration frames of 4 videos (' in out
    assert 'package: step_int8.onnx' in out
    assert 'step_int8.onnx: an int8 package of this checkpoint' in out
    assert sum(line.startswith('frame ') for line in out.splitlines()) == 24
