"""Reports skipped broken samples per epoch and stops silent decay."""
from __future__ import annotations

import torch
from mmaction.registry import HOOKS
from mmengine.dist import all_reduce
from mmengine.hooks import Hook


@HOOKS.register_module()
class BrokenSampleHook(Hook):
    """Counts the samples a robust dataset skipped, at every epoch end.

    Works with :class:`~img_mmaction.datasets.RobustVideoDataset` and
    :class:`~img_mmaction.datasets.RobustRawframeDataset` (other datasets are
    ignored). The count is summed over distributed ranks.

    Args:
        max_broken_ratio: Stop with an error when the skips of one epoch
            exceed this fraction of the dataset. Defaults to 0.01.
    """

    priority = 'LOW'

    def __init__(self, max_broken_ratio: float = 0.01) -> None:
        if not 0 <= max_broken_ratio <= 1:
            raise ValueError('max_broken_ratio must be in [0, 1], got '
                             f'{max_broken_ratio}')
        self.max_broken_ratio = max_broken_ratio

    @staticmethod
    def _dataset(runner):
        dataset = runner.train_dataloader.dataset
        return dataset if hasattr(dataset, 'num_skipped') else None

    def before_train_epoch(self, runner) -> None:
        dataset = self._dataset(runner)
        if dataset is not None:
            dataset.reset_skipped()

    def after_train_epoch(self, runner) -> None:
        dataset = self._dataset(runner)
        if dataset is None:
            return
        skipped = torch.tensor(float(dataset.num_skipped))
        all_reduce(skipped)  # no-op without distributed training
        skipped = int(skipped.item())
        ratio = skipped / max(len(dataset), 1)
        runner.logger.info(
            f'epoch {runner.epoch + 1}: skipped {skipped} broken sample(s) of '
            f'{len(dataset)} ({ratio:.2%}); paths are in the warnings above')
        if ratio > self.max_broken_ratio:
            raise RuntimeError(
                f'{skipped} of {len(dataset)} training samples ({ratio:.2%}) '
                f'were broken in epoch {runner.epoch + 1}, more than '
                f'max_broken_ratio={self.max_broken_ratio:.2%}: fix the data '
                '(python -m img_mmaction.datasets.annotation_check) or raise '
                'the threshold.')
