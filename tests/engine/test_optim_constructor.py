"""The TSM/TEA training policy: every parameter of our recipes, one group."""
from pathlib import Path

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from img_mmaction.engine import IMGOptimWrapperConstructor, policy_groups
from img_mmaction.engine.optimizers import POLICY

REPO = Path(__file__).resolve().parents[2]
STHV1 = REPO / ('configs/img/img_imagenet-pretrained-res2net50-w26-s4_'
                '8xb4-1x1x8-50e_sthv1-rgb.py')
UCF101 = REPO / ('configs/finetune/img_sthv1-pretrained-res2net50-w26-s4_'
                 '8xb4-1x1x8-25e_ucf101-split1-rgb.py')


def expected_group(name: str, module_name: str, kind: str) -> str:
    """The policy, restated from TSM's/TEA's get_optim_policies."""
    bias = name.endswith('.bias')
    if module_name == 'backbone.conv1':
        return 'first_conv_bias' if bias else 'first_conv_weight'
    if module_name == 'cls_head.fc_cls':
        return 'fc_bias' if bias else 'fc_weight'
    if '.cmem.' in name:
        return 'cmem_bias' if bias else 'cmem_weight'
    if kind == 'AdaptiveShift':
        return 'shift_weight'
    if kind in ('BatchNorm2d', 'SyncBatchNorm'):
        return 'bn'
    return 'normal_bias' if bias else 'normal_weight'


def model_of(path: Path) -> torch.nn.Module:
    cfg = Config.fromfile(str(path))
    cfg.model.backbone.pretrained = None
    return MODELS.build(cfg.model), cfg


@pytest.mark.parametrize('path', [STHV1, UCF101], ids=['sthv1', 'ucf101'])
def test_recipe_parameters_are_each_in_the_group_the_policy_says(path: Path
                                                                 ) -> None:
    model, cfg = model_of(path)
    # As the runner does: the optimizer is built before model.train()
    # applies partial BN.
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert cfg.optim_wrapper.constructor == 'IMGOptimWrapperConstructor'
    base_lr = cfg.optim_wrapper.optimizer.lr
    base_wd = cfg.optim_wrapper.optimizer.weight_decay
    where = {}
    for group in wrapper.optimizer.param_groups:
        lr_mult, decay_mult = POLICY[group['name']]
        assert group['lr'] == pytest.approx(base_lr * lr_mult)
        assert group['weight_decay'] == pytest.approx(base_wd * decay_mult)
        for param in group['params']:
            assert id(param) not in where, 'a parameter in two groups'
            where[id(param)] = group['name']
    modules = dict(model.named_modules())
    seen = 0
    for name, param in model.named_parameters():
        module_name = name.rsplit('.', 1)[0]
        kind = type(modules[module_name]).__name__
        if not param.requires_grad:
            assert id(param) not in where, name  # frozen: not optimised
            continue
        seen += 1
        assert where[id(param)] == expected_group(name, module_name,
                                                  kind), name
    assert seen == len(where)
    frozen = sum(not p.requires_grad for p in model.parameters())
    if path == UCF101:  # partial BN: every BN but the first is frozen
        bns = [
            m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)
        ]
        assert frozen == 2 * (len(bns) - 1)
        assert sum(g['name'] == 'bn'
                   for g in wrapper.optimizer.param_groups) == 1
    else:
        assert frozen == 0


def test_classifier_trains_5x_and_10x_only_with_fc_lr5() -> None:
    model, cfg = model_of(UCF101)
    on = {
        g['name']: g
        for g in build_optim_wrapper(model,
                                     cfg.optim_wrapper).optimizer.param_groups
    }
    assert on['fc_weight']['lr'] == pytest.approx(0.005)
    assert on['fc_bias']['lr'] == pytest.approx(0.01)
    assert on['fc_bias']['weight_decay'] == 0
    cfg.optim_wrapper.paramwise_cfg = dict(fc_lr5=False)
    off = {
        g['name']
        for g in build_optim_wrapper(model,
                                     cfg.optim_wrapper).optimizer.param_groups
    }
    assert 'fc_weight' not in off and 'normal_weight' in off


def test_shift_and_cmem_multipliers_are_configurable() -> None:
    model, cfg = model_of(STHV1)
    cfg.optim_wrapper.paramwise_cfg = dict(
        fc_lr5=True,
        shift=dict(lr_mult=10, decay_mult=0),
        cmem=dict(lr_mult=2))
    groups = {
        g['name']: g
        for g in build_optim_wrapper(model,
                                     cfg.optim_wrapper).optimizer.param_groups
    }
    assert groups['shift_weight']['lr'] == pytest.approx(0.1)
    assert groups['shift_weight']['weight_decay'] == 0
    assert groups['cmem_weight']['lr'] == pytest.approx(0.02)
    assert groups['cmem_bias']['lr'] == pytest.approx(0.04)
    cfg.optim_wrapper.paramwise_cfg = dict(shfit=dict(lr_mult=2))
    with pytest.raises(
            ValueError, match=r"\['shfit'\] \(did you mean 'shift'"):
        build_optim_wrapper(model, cfg.optim_wrapper)


def test_a_module_without_a_rule_is_named() -> None:

    class Gate(torch.nn.Module):

        def __init__(self) -> None:
            super().__init__()
            self.alpha = torch.nn.Parameter(torch.ones(1))

    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 1), Gate(), torch.nn.Linear(4, 2))
    with pytest.raises(
            ValueError, match=r"1 \(Gate\) has parameters "
            r"\['alpha'\]"):
        policy_groups(model)
    assert IMGOptimWrapperConstructor  # registered under this name


@pytest.mark.parametrize('optimizer,default', [('AdamW', 0.01), ('SGD', 0.0)])
def test_without_weight_decay_the_optimizers_default_is_the_base(
        optimizer: str, default: float) -> None:
    """No weight_decay in the recipe: the optimizer's own default decays
    the weights (AdamW's 0.01), and BN and biases still get none."""
    model, _ = model_of(STHV1)
    wrapper = build_optim_wrapper(
        model,
        dict(
            optimizer=dict(type=optimizer, lr=0.01),
            constructor='IMGOptimWrapperConstructor'))
    decay = {
        g['name']: g['weight_decay']
        for g in wrapper.optimizer.param_groups
    }
    assert decay['normal_weight'] == pytest.approx(default)
    assert decay['shift_weight'] == pytest.approx(default)
    assert decay['bn'] == 0 and decay['fc_bias'] == 0
