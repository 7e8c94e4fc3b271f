"""EpochSeedHook: an interrupted run resumes to identical weights."""
from pathlib import Path

import pytest
import torch
from mmaction.registry import HOOKS
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from img_mmaction.testing import TINY_TSM_CONFIG, make_video_dataset


class Preempted(Exception):
    """Stands for the job being killed."""


@HOOKS.register_module(force=True)
class PreemptAtHook(Hook):
    """Raises in the middle of an epoch, after some iterations."""

    def __init__(self, epoch: int, iteration: int) -> None:
        self.epoch, self.iteration = epoch, iteration

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        if runner.epoch == self.epoch and batch_idx == self.iteration:
            raise Preempted(f'killed in epoch {self.epoch + 1}')


def config(data: Path, work_dir: Path, epochs: int) -> Config:
    cfg = Config.fromfile(str(TINY_TSM_CONFIG))
    cfg.work_dir = str(work_dir)
    cfg.train_cfg.max_epochs = epochs
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.update(
            ann_file=str(data / 'ann.txt'),
            data_prefix=dict(video=str(data / 'videos')))
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    # Sampling offsets, crops and ColorJitter draw from the global RNGs,
    # which mmengine seeds once per run: EpochSeedHook reseeds per epoch.
    cfg.custom_hooks = [dict(type='EpochSeedHook')]
    return cfg


def final_weights(work_dir: Path) -> dict:
    return torch.load(
        work_dir / 'epoch_3.pth', weights_only=True)['state_dict']


def test_killed_run_resumes_to_the_same_weights(tmp_path: Path) -> None:
    make_video_dataset(tmp_path / 'data', num_videos=8)
    Runner.from_cfg(config(tmp_path / 'data', tmp_path / 'full', 3)).train()

    killed = config(tmp_path / 'data', tmp_path / 'killed', 3)
    killed.custom_hooks.append(
        dict(type='PreemptAtHook', epoch=2, iteration=1))
    with pytest.raises(Preempted):
        Runner.from_cfg(killed).train()
    assert (tmp_path / 'killed' / 'epoch_2.pth').is_file()
    assert not (tmp_path / 'killed' / 'epoch_3.pth').exists()

    resumed = config(tmp_path / 'data', tmp_path / 'killed', 3)
    resumed.resume = True
    Runner.from_cfg(resumed).train()
    full = final_weights(tmp_path / 'full')
    again = final_weights(tmp_path / 'killed')
    for key, value in full.items():
        assert torch.equal(value, again[key]), key
