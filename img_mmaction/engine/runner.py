"""A Runner that gives a stock recipe the plugin's robust datasets."""
from __future__ import annotations
import copy
from typing import Optional

from mmaction.registry import RUNNERS
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log
from mmengine.runner import Runner

#: Stock dataset type -> the robust version with the same arguments.
ROBUST_TYPES = {
    'VideoDataset': 'RobustVideoDataset',
    'RawframeDataset': 'RobustRawframeDataset',
}
_LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def make_datasets_robust(cfg: Config) -> Config:
    """Returns a copy of ``cfg`` whose stock datasets are the robust ones.

    ``VideoDataset`` and ``RawframeDataset`` (also inside a dataset wrapper
    such as ``RepeatDataset``) become :class:`RobustVideoDataset` and
    :class:`RobustRawframeDataset`, which take the same arguments; their
    labels are checked against ``model.cls_head.num_classes`` when the
    recipe has one. Other dataset types are left as they are.

    Args:
        cfg: A full recipe.

    Returns:
        The changed copy.
    """
    cfg = copy.deepcopy(cfg)
    num_classes = cfg.get('model', {}).get('cls_head', {}).get('num_classes')
    changed = []
    for loader in _LOADERS:
        dataset: Optional[ConfigDict] = (cfg.get(loader) or {}).get('dataset')
        while isinstance(dataset, dict):
            robust = ROBUST_TYPES.get(dataset.get('type'))
            if robust is not None:
                dataset['type'] = robust
                if num_classes is not None:
                    dataset.setdefault('num_classes', num_classes)
                changed.append(f'{loader}: {robust}')
                break
            dataset = dataset.get('dataset')
    if changed:
        print_log('RobustRunner: ' + ', '.join(changed), logger='current')
    return cfg


@RUNNERS.register_module()
class RobustRunner(Runner):
    """mmengine's Runner, with the robust datasets (one line in a recipe).

    ``runner_type = 'RobustRunner'`` (which ``img_plugin.py`` sets) makes
    MMAction2's ``tools/train.py`` and ``tools/test.py`` build this runner:
    the recipe's ``VideoDataset`` / ``RawframeDataset`` become their robust
    versions (:func:`make_datasets_robust`); everything else is mmengine's.
    """

    @classmethod
    def from_cfg(cls, cfg: Config) -> 'RobustRunner':
        """Builds the runner from a recipe with robust datasets."""
        return super().from_cfg(make_datasets_robust(cfg))
