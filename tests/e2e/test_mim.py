"""The plugin works with MMAction2's stock tooling, end to end, on real mp4s.

A tiny TSM recipe that inherits ``mmaction::`` bases and loads the plugin
through ``custom_imports`` (``img_mmaction.testing.TINY_TSM_CONFIG``) is
trained with
``mim train``, evaluated from its checkpoint with ``mim test``, continued with
``--resume``, and trained by two CPU processes with ``--launcher pytorch``.
Each step needs one of the compat fixes (drn import, weights_only
checkpoints, ColorJitter under numpy 2, gloo init).
"""
import re
import shutil
from pathlib import Path

import pytest

from img_mmaction.testing import TINY_TSM_CONFIG, make_video_dataset
from .mim_cli import run_mim as mim

pytestmark = pytest.mark.slow  # mim subprocesses

CONFIG = TINY_TSM_CONFIG


@pytest.fixture(scope='module')
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp('e2e')
    make_video_dataset(root / 'data', num_videos=6, num_classes=2)
    return root


@pytest.fixture(scope='module')
def trained(workspace: Path) -> Path:
    """Work dir of a 1-epoch ``mim train`` run."""
    mim(['train', 'mmaction', str(CONFIG), '--work-dir', 'work'], workspace)
    return workspace / 'work'


def test_mim_train_saves_a_checkpoint(trained: Path) -> None:
    assert (trained / 'epoch_1.pth').is_file()
    assert (trained /
            'last_checkpoint').read_text().strip().endswith('epoch_1.pth')


def test_mim_test_loads_the_saved_checkpoint(workspace: Path,
                                             trained: Path) -> None:
    out = mim([
        'test', 'mmaction',
        str(CONFIG), '--checkpoint',
        str(trained / 'epoch_1.pth'), '--work-dir', 'work_test'
    ], workspace)
    assert 'Load checkpoint from' in out
    # All 6 test videos were evaluated (batch size 1 -> 6 iterations).
    assert re.search(r'Epoch\(test\) \[6/6\].*acc/top1: [0-9.]+', out), out


def test_resume_continues_from_the_checkpoint(workspace: Path,
                                              trained: Path) -> None:
    resumed = workspace / 'work_resume'
    shutil.copytree(trained, resumed)
    out = mim([
        'train', 'mmaction',
        str(CONFIG), '--work-dir',
        str(resumed), '--resume', '--cfg-options', 'train_cfg.max_epochs=2'
    ], workspace)
    assert 'resumed epoch: 1' in out
    assert 'Epoch(train) [1]' not in out  # epoch 1 was not trained again
    assert (resumed / 'epoch_2.pth').is_file()


def test_two_cpu_processes_with_pytorch_launcher(workspace: Path) -> None:
    out = mim([
        'train', 'mmaction',
        str(CONFIG), '--work-dir', 'work_dist', '--launcher', 'pytorch',
        '--gpus', '2'
    ], workspace)
    assert 'Distributed training: True' in out
    assert 'GPU number: 2' in out  # mmengine's name for the world size
    assert (workspace / 'work_dist' / 'epoch_1.pth').is_file()
    assert re.search(r'Epoch\(val\) \[1\]\[\d+/\d+\].*acc/top1', out)
