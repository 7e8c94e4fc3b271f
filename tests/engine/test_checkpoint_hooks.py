"""StrictCheckpointHook: a checkpoint that does not fit is refused."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from img_mmaction.engine import StrictCheckpointHook
from img_mmaction.testing import TINY_TSM_CONFIG, make_video_dataset


@pytest.fixture()
def runner(tmp_path: Path) -> Runner:
    videos, ann = make_video_dataset(tmp_path / 'data', num_videos=2)
    cfg = Config.fromfile(str(TINY_TSM_CONFIG))
    cfg.work_dir = str(tmp_path / 'work')
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.update(
            ann_file=str(ann), data_prefix=dict(video=str(videos)))
    return Runner.from_cfg(cfg)


def test_a_fitting_checkpoint_passes_unchanged(runner: Runner) -> None:
    state = {k: v.clone() for k, v in runner.model.state_dict().items()}
    checkpoint = {'state_dict': dict(state)}
    StrictCheckpointHook().after_load_checkpoint(runner, checkpoint)
    assert checkpoint['state_dict'].keys() == state.keys()


def test_missing_unexpected_and_reshaped_tensors_are_all_listed(
        runner: Runner) -> None:
    state = {k: v.clone() for k, v in runner.model.state_dict().items()}
    del state['backbone.conv1.bn.weight']
    state['backbone.layer9.weight'] = torch.zeros(2)
    state['cls_head.fc_cls.weight'] = torch.zeros(7, 512)
    with pytest.raises(ValueError) as err:
        StrictCheckpointHook().after_load_checkpoint(runner,
                                                     {'state_dict': state})
    text = str(err.value)
    assert '3 tensor(s) differ' in text
    assert ('1 tensor(s) missing in the checkpoint:\n'
            '    backbone.conv1.bn.weight (model (') in text
    assert ('1 tensor(s) not in the model:\n'
            '    backbone.layer9.weight (checkpoint (2,))') in text
    assert ('1 tensor(s) of another shape:\n'
            '    cls_head.fc_cls.weight: checkpoint (7, 512) vs model (2, 512)'
            ) in text


def test_load_from_with_the_hook_fails_before_training(runner: Runner,
                                                       tmp_path: Path) -> None:
    """What a recipe with the hook (all of ours) does with a wrong file."""
    other = {'state_dict': {'backbone.other.weight': torch.zeros(1)}}
    path = tmp_path / 'other.pth'
    torch.save(other, path)
    runner.register_hook(StrictCheckpointHook())
    with pytest.raises(ValueError, match='does not fit the model'):
        runner.load_checkpoint(str(path))


def test_testing_a_recipe_with_a_wrong_checkpoint_fails(tmp_path: Path
                                                        ) -> None:
    """What ``mim test`` of any of our recipes does: the runtime base has
    StrictCheckpointHook, so a checkpoint of another model stops the test
    before a single prediction."""
    from img_mmaction.utils import config_path
    videos, ann = make_video_dataset(tmp_path / 'data', num_videos=2)
    cfg = Config.fromfile(
        str(
            config_path(
                'demo/img_res2net-tiny_1xb8-1x1x8-12e_motion-demo-rgb.py')))
    assert 'StrictCheckpointHook' in [h['type'] for h in cfg.custom_hooks]
    tsn = Config.fromfile(
        str(
            config_path(
                'demo/tsn_res2net-tiny_1xb8-1x1x8-12e_motion-demo-rgb.py')))
    from mmaction.registry import MODELS
    path = tmp_path / 'tsn.pth'
    torch.save({'state_dict': MODELS.build(tsn.model).state_dict()}, path)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.load_from = str(path)
    cfg.test_dataloader.dataset.update(
        ann_file=str(ann), data_prefix=dict(video=str(videos)))
    cfg.test_dataloader.update(num_workers=0, persistent_workers=False)
    runner = Runner.from_cfg(cfg)
    with pytest.raises(
            ValueError,
            match=r'tensor\(s\) missing in the checkpoint:\n'
            r'(    .*\n)*    backbone\.layer1\.0\.cmem\.conv_exp\.bias'):
        runner.test()
