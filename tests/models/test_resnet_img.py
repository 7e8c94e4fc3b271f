"""ResNetIMG: MMAction2's ResNet with CMEM and a temporal layer per block."""
from pathlib import Path

import pytest
import torch
from mmaction.models.backbones.resnet import ResNet

from img_mmaction.models import IMGResNetBottleneck, ResNetIMG
from .utils import randomize_

T = 4


def test_resnet_img_without_modules_equals_mmaction_resnet() -> None:
    ours = ResNetIMG(
        depth=50,
        num_segments=T,
        with_cmem=False,
        temporal_cfg=None,
        pretrained=None)
    theirs = ResNet(depth=50, pretrained=None)
    theirs.load_state_dict(ours.state_dict())  # identical keys
    ours.eval()  # mmaction's ResNet.train() returns None: no chaining
    theirs.eval()
    x = torch.randn(T, 3, 32, 32)
    torch.testing.assert_close(ours(x), theirs(x))


def test_resnet_img_runs_cmem_and_shift_in_each_block() -> None:
    model = ResNetIMG(depth=50, num_segments=T, pretrained=None)
    model.eval()
    calls = []
    model.layer2[1].cmem.register_forward_hook(
        lambda *args: calls.append('cmem'))
    model.layer2[1].temporal.register_forward_hook(
        lambda *args: calls.append('shift'))
    model(torch.randn(T, 3, 32, 32))
    assert calls == ['cmem', 'shift']
    keys = model.state_dict().keys()
    assert 'layer3.0.cmem.conv_exp.weight' in keys
    assert 'layer3.0.temporal.weight' in keys
    with pytest.raises(ValueError, match='bottleneck blocks'):
        ResNetIMG(depth=18, pretrained=None)


def test_resnet_img_block_shows_cmem_and_the_temporal_layer() -> None:
    """An explicit block class: the modules are in print(model) and in the
    block's forward, not in hooks."""
    model = ResNetIMG(depth=50, num_segments=T, pretrained=None)
    block = model.layer3[1]
    assert isinstance(block, IMGResNetBottleneck)
    assert not block.conv1._forward_hooks and not block.conv2._forward_hooks
    text = str(model)
    assert '(cmem): CMEM(' in text and '(temporal): AdaptiveShift(' in text
    plain = ResNetIMG(
        depth=50,
        num_segments=T,
        pretrained=None,
        with_cmem=False,
        temporal_cfg=None)
    assert isinstance(plain.layer1[0].cmem, torch.nn.Identity)


@pytest.mark.parametrize('kwargs,match', [
    (dict(with_cmen=True), "'with_cmen' \\(did you mean 'with_cmem'\\?\\)"),
    (dict(norm_evl=True), "'norm_evl' \\(did you mean 'norm_eval'\\?\\)"),
    (dict(shift_cfg=dict(init='tsm')), "'shift_cfg' was replaced by "
     "temporal_cfg"),
])
def test_resnet_img_unknown_arguments_name_the_right_one(
        kwargs: dict, match: str) -> None:
    with pytest.raises(TypeError, match=f'ResNetIMG got unknown.*{match}'):
        ResNetIMG(pretrained=None, **kwargs)


def test_resnet_img_keeps_the_identity_cmem_start_after_init_weights() -> None:
    """ResNet's Kaiming init covers every Conv2d, CMEM's too; the identity
    start of ``cmem_cfg=dict(init='identity')`` must survive it."""
    model = ResNetIMG(
        depth=50,
        num_segments=T,
        pretrained=None,
        cmem_cfg=dict(init='identity'))
    model.init_weights()
    cmem = model.layer2[0].cmem
    assert not cmem.conv_exp.weight.any() and not cmem.conv_exp.bias.any()
    assert cmem.conv_prev.weight.any()


def torchvision_format(model: ResNet) -> dict:
    """An MMAction2 ResNet's weights under torchvision's key names."""
    state = {}
    for key, value in model.state_dict().items():
        if '.cmem.' in key or '.temporal.' in key:
            continue
        key = key.replace('downsample.conv.', 'downsample.0.')
        key = key.replace('downsample.bn.', 'downsample.1.')
        for n in (1, 2, 3):
            key = key.replace(f'conv{n}.conv.', f'conv{n}.')
            key = key.replace(f'conv{n}.bn.', f'bn{n}.')
        state[key] = value
    return state


def test_resnet_img_loads_torchvision_weights_and_reports_new_ones(
        tmp_path: Path) -> None:
    from mmengine.logging import MMLogger
    source = randomize_(ResNet(depth=50, pretrained=None))
    path = tmp_path / 'resnet50_torchvision.pth'
    torch.save(torchvision_format(source), path)
    log_file = tmp_path / 'load.log'
    MMLogger.get_instance('test_resnet_img_load', log_file=str(log_file))
    shift = dict(type='AdaptiveShift')
    model = ResNetIMG(
        depth=50,
        num_segments=T,
        pretrained=str(path),
        temporal_cfg=(None, shift, shift, dict(type='TemporalConv1d')))
    model.init_weights()
    loaded = model.state_dict()
    for key, value in source.state_dict().items():
        assert torch.equal(loaded[key], value), key
    log = log_file.read_text()
    assert 'layer1.0.cmem.conv_prev.weight' in log
    assert 'layer2.0.temporal.weight' in log
    assert 'layer4.2.temporal.conv.weight' in log


def test_resnet_img_keeps_clips_apart_and_checks_the_batch() -> None:
    model = ResNetIMG(
        depth=50,
        num_segments=T,
        pretrained=None,
        temporal_cfg=dict(type='AdaptiveShift', init='random'))
    model.init_weights()
    model.eval()
    x = torch.randn(2 * T, 3, 32, 32)
    perturbed = x.clone()
    perturbed[T:] = torch.randn(T, 3, 32, 32)
    with torch.no_grad():
        out, out_perturbed = model(x), model(perturbed)
    assert torch.equal(out[:T], out_perturbed[:T])
    assert not torch.allclose(out[T:], out_perturbed[T:])
    with pytest.raises(
            ValueError,
            match='ResNetIMG: batch of 6 frames is '
            'not a multiple of num_segments=4'):
        model(torch.randn(6, 3, 32, 32))
