"""A user's own recipe: MMAction2's stock TSM recipe with the IMG backbone.

The file is the one the README shows (configs/examples/), with the plugin
base; it is trained and tested here with ``mim train img_mmaction`` and
``mim test img_mmaction`` on generated videos, shrunk only through
``--cfg-options``, as a user would try it on a laptop.
"""
import subprocess
from pathlib import Path

import pytest
import torch

from img_mmaction.testing import make_video_dataset
from .mim_cli import MIM

pytestmark = pytest.mark.slow  # mim subprocesses

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = (
    REPO / 'configs' / 'examples' /
    'img_from-stock-tsm_8xb16-1x1x8-50e_kinetics400-rgb.py')


def test_the_readme_shows_the_example_file_verbatim() -> None:
    readme = (REPO / 'README.md').read_text()
    assert EXAMPLE.read_text().strip() in readme


def test_the_plugin_base_refuses_a_checkpoint_of_another_model(tmp_path: Path
                                                               ) -> None:
    """``mim test`` of the example with a checkpoint of another model stops
    before a single prediction (stock MMAction2 would warn and test random
    weights). The docs harness trains and tests the example as written."""
    videos, ann = make_video_dataset(tmp_path / 'data', num_videos=2)
    options = [
        'model.backbone.base_channels=32',
        'model.backbone.stem_channels=16',
        'model.backbone.stage_blocks=(1,1,1,1)',
        'model.backbone.pretrained=None',
        'model.cls_head.in_channels=1024',
        'model.cls_head.num_classes=2',
    ]
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options += [
            f'{loader}.dataset.ann_file={ann}',
            f'{loader}.dataset.data_prefix.video={videos}',
            f'{loader}.num_workers=0', f'{loader}.persistent_workers=False'
        ]
    other = tmp_path / 'other.pth'
    torch.save({'state_dict': {
        'backbone.conv1.weight': torch.zeros(1)
    }}, other)
    result = subprocess.run([
        MIM, 'test', 'img_mmaction',
        str(EXAMPLE), '--checkpoint',
        str(other), '--work-dir', 'tested', '--cfg-options', *options
    ],
                            cwd=tmp_path,
                            capture_output=True,
                            text=True,
                            timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert 'does not fit the model' in output
    assert 'Epoch(test)' not in output
