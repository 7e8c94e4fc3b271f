"""RobustRunner: a stock recipe gets the robust datasets from one line."""
from pathlib import Path

from mmengine.config import Config
from mmengine.hub import get_config

from img_mmaction.datasets import RobustVideoDataset
from img_mmaction.engine import RobustRunner, make_datasets_robust

REPO = Path(__file__).resolve().parents[2]
STOCK_TSN = ('mmaction::recognition/tsn/'
             'tsn_imagenet-pretrained-r50_8xb32-1x1x8-100e_kinetics400-rgb.py')


def test_stock_datasets_become_robust_with_the_models_classes() -> None:
    cfg = get_config(STOCK_TSN)
    robust = make_datasets_robust(cfg)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[loader].dataset.type == 'VideoDataset'  # copy changed
        assert robust[loader].dataset.type == 'RobustVideoDataset'
        assert robust[loader].dataset.num_classes == 400


def test_wrapped_and_other_datasets() -> None:
    cfg = Config(
        dict(
            model=dict(cls_head=dict(num_classes=5)),
            train_dataloader=dict(
                dataset=dict(
                    type='RepeatDataset',
                    times=2,
                    dataset=dict(type='RawframeDataset', ann_file='a'))),
            val_dataloader=dict(dataset=dict(type='PoseDataset'))))
    robust = make_datasets_robust(cfg)
    inner = robust.train_dataloader.dataset.dataset
    assert inner.type == 'RobustRawframeDataset' and inner.num_classes == 5
    assert robust.val_dataloader.dataset.type == 'PoseDataset'


def test_the_plugin_base_selects_the_runner(tmp_path: Path) -> None:
    leaf = tmp_path / 'mine.py'
    leaf.write_text(f"_base_ = ['{STOCK_TSN}', "
                    f"'{REPO / 'configs/_base_/img_plugin.py'}']\n")
    cfg = Config.fromfile(str(leaf))
    assert cfg.runner_type == 'RobustRunner'
    assert 'img_mmaction' in cfg.custom_imports.imports
    assert [h['type'] for h in cfg.custom_hooks
            ] == ['StrictCheckpointHook', 'BrokenSampleHook', 'EpochSeedHook']
    assert RobustRunner.from_cfg.__func__ is not None
    assert RobustVideoDataset
