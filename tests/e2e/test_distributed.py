"""Two CPU processes: every test sample counted once; same weights as one."""
import pickle
from pathlib import Path

import pytest
import torch

from img_mmaction.testing import (TINY_TSM_CONFIG,
                                  TINY_TSM_DETERMINISTIC_CONFIG,
                                  make_video_dataset)
from .mim_cli import run_mim as mim

pytestmark = pytest.mark.slow  # mim subprocesses


@pytest.fixture(scope='module')
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp('dist')
    make_video_dataset(root / 'data', num_videos=8, num_classes=2)
    return root


def test_distributed_test_counts_every_sample_once(workspace: Path) -> None:
    """5 videos on 2 processes: the sampler pads, the evaluator must not."""
    lines = (workspace / 'data' / 'ann.txt').read_text().split('\n')[:5]
    (workspace / 'data' / 'ann5.txt').write_text('\n'.join(lines) + '\n')
    config = TINY_TSM_CONFIG
    mim(['train', 'mmaction', str(config), '--work-dir', 'w1'], workspace)
    dump = workspace / 'preds.pkl'
    mim([
        'test', 'mmaction',
        str(config), '--checkpoint', 'w1/epoch_1.pth', '--work-dir', 'wt',
        '--launcher', 'pytorch', '--gpus', '2', '--dump',
        str(dump), '--cfg-options',
        'test_dataloader.dataset.ann_file=data/ann5.txt'
    ], workspace)
    with open(dump, 'rb') as handle:
        samples = pickle.load(handle)  # written by this test's own run
    assert len(samples) == 5
    labels = [int(s['gt_label'].reshape(-1)[0]) for s in samples]
    assert labels == [int(line.split()[1]) for line in lines]


def test_two_processes_match_one_process(workspace: Path) -> None:
    config = TINY_TSM_DETERMINISTIC_CONFIG
    mim(['train', 'mmaction', str(config), '--work-dir', 'one'], workspace)
    mim([
        'train', 'mmaction',
        str(config), '--work-dir', 'two', '--launcher', 'pytorch', '--gpus',
        '2', '--cfg-options', 'train_dataloader.batch_size=2'
    ], workspace)
    one = torch.load(
        workspace / 'one' / 'epoch_1.pth', weights_only=True)['state_dict']
    two = torch.load(
        workspace / 'two' / 'epoch_1.pth', weights_only=True)['state_dict']
    for key, value in one.items():
        if value.is_floating_point():
            torch.testing.assert_close(
                two[key], value, rtol=0, atol=1e-5, msg=key)
