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

from img_mmaction.models import tsm_kernel
from img_mmaction.testing import make_video_dataset
from .mim_cli import MIM
from .mim_cli import run_mim as mim

pytestmark = pytest.mark.slow  # mim subprocesses

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = (
    REPO / 'configs' / 'examples' /
    'img_from-stock-tsm_8xb16-1x1x8-50e_kinetics400-rgb.py')


def test_the_readme_shows_the_example_file_verbatim() -> None:
    readme = (REPO / 'README.md').read_text()
    assert EXAMPLE.read_text().strip() in readme


def test_stock_tsm_recipe_with_img_trains_through_mim(tmp_path: Path) -> None:
    videos, ann = make_video_dataset(tmp_path / 'data', num_videos=4)
    options = [
        'model.backbone.base_channels=32',
        'model.backbone.stem_channels=16',
        'model.backbone.stage_blocks=(1,1,1,1)',
        'model.backbone.pretrained=None',
        'model.cls_head.in_channels=1024',
        'model.cls_head.num_classes=2',
        'train_cfg.max_epochs=1',
    ]
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options += [
            f'{loader}.dataset.ann_file={ann}',
            f'{loader}.dataset.data_prefix.video={videos}',
            f'{loader}.batch_size=2', f'{loader}.num_workers=0',
            f'{loader}.persistent_workers=False'
        ]
    out = mim([
        'train', 'img_mmaction',
        str(EXAMPLE), '--work-dir', 'work', '--cfg-options', *options
    ], tmp_path)
    # The stock recipe's own pieces are in use ...
    assert 'RobustRunner: train_dataloader: RobustVideoDataset' in out
    assert 'Epoch(val) [1]' in out
    state = torch.load(
        tmp_path / 'work' / 'epoch_1.pth', weights_only=True)['state_dict']
    # ... and the shift kernels were optimised by TSMOptimWrapperConstructor
    # (compat fix 7 puts them in its normal_weight group).
    kernel = state['backbone.layer2.0.clim.temporal.0.weight']
    assert not torch.equal(kernel, tsm_kernel(kernel.shape[0], 8))

    # The plugin base makes --checkpoint strict: a checkpoint of another
    # model is refused before a single prediction (stock MMAction2 would
    # warn and test random weights).
    other = tmp_path / 'other.pth'
    torch.save({'state_dict': {
        'backbone.conv1.weight': torch.zeros(1)
    }}, other)
    result = subprocess.run([
        MIM, 'test', 'img_mmaction',
        str(EXAMPLE), '--checkpoint',
        str(other), '--work-dir', 'tested', '--cfg-options',
        *[o for o in options if not o.startswith('train_cfg')]
    ],
                            cwd=tmp_path,
                            capture_output=True,
                            text=True,
                            timeout=600)
    assert result.returncode != 0
    assert 'does not fit the model' in result.stdout + result.stderr
