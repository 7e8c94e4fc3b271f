"""Res2NetIMG and ResNetIMG: Res2Net equivalence, weights, BN policies."""
from pathlib import Path

import pytest
import torch
from mmaction.models.backbones.resnet import ResNet
from mmaction.registry import MODELS

from img_mmaction.models import (IMGBottleneck, PretrainedMismatchError,
                                 Res2NetIMG, ResNetIMG, load_res2net_imagenet,
                                 map_res2net_key)

from .reference_res2net import Bottle2neck, Res2Net
from .utils import randomize_

T = 4
# Slices are 6 channels wide at base_channels=16: shift 1/2 of them.
TINY = dict(base_channels=16, stem_channels=16, num_segments=T,
            shift_cfg=dict(shift_div=2))


def save_official_format(model: torch.nn.Module, path: Path) -> None:
    """Saves a state dict under the official checkpoint's key names."""
    torch.save(model.state_dict(), path)


@pytest.mark.parametrize('stage', [False, True])
def test_block_without_cmem_and_identity_shift_is_res2net(
        stage: bool) -> None:
    inplanes = 64 if stage else 256
    downsample = torch.nn.Sequential(
        torch.nn.Conv2d(inplanes, 256, 1, 2 if stage else 1, bias=False),
        torch.nn.BatchNorm2d(256)) if stage else None
    reference = randomize_(Bottle2neck(inplanes, 64, 2 if stage else 1,
                                       downsample, stage=stage)).eval()
    block = IMGBottleneck(
        inplanes, 64, T, stride=2 if stage else 1,
        downsample=torch.nn.Sequential(
            torch.nn.Conv2d(inplanes, 256, 1, 2, bias=False),
            torch.nn.BatchNorm2d(256)) if stage else None,
        first_block=stage, with_cmem=False, temporal='shift',
        shift_cfg=dict(init='identity')).eval()
    state = {map_res2net_key(f'layer1.0.{k}')[len('layer1.0.'):]: v
             for k, v in reference.state_dict().items()}
    missing, unexpected = block.load_state_dict(state, strict=False)
    assert unexpected == []
    assert all('.temporal.' in k for k in missing)  # only the shift is new
    x = torch.randn(2 * T, inplanes, 8, 8)
    torch.testing.assert_close(block(x), reference(x))


@pytest.fixture(scope='module')
def official_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Res2Net in the official key format, ``fc`` included."""
    torch.manual_seed(1)
    reference = randomize_(Res2Net(base_channels=16, stem_channels=16))
    path = tmp_path_factory.mktemp('ckpt') / 'res2net50_26w_4s-tiny.pth'
    save_official_format(reference, path)
    return path


def test_pretrained_loads_every_res2net_key_and_reports_new_ones(
        official_checkpoint: Path, tmp_path: Path) -> None:
    from mmengine.logging import MMLogger
    log_file = tmp_path / 'load.log'
    MMLogger.get_instance('test_pretrained_report', log_file=str(log_file))
    reference = Res2Net(base_channels=16, stem_channels=16)
    reference.load_state_dict(torch.load(official_checkpoint,
                                         weights_only=True))
    model = Res2NetIMG(with_cmem=True, temporal='shift',
                       pretrained=str(official_checkpoint), **TINY)
    model.init_weights()
    loaded = model.state_dict()
    for key, value in reference.state_dict().items():
        if key.startswith('fc.'):
            continue
        assert torch.equal(loaded[map_res2net_key(key)], value), key
    out = log_file.read_text()
    assert 'new IMG tensors' in out and "unused: ['fc.bias', 'fc.weight']" \
        in out
    assert 'layer1.0.cmem.conv_prev.weight' in out
    assert 'layer4.2.clim.temporal.2.weight' in out


@pytest.mark.parametrize('channels_last', [False, True])
def test_plain_res2net_configuration_reproduces_reference_features(
        official_checkpoint: Path, channels_last: bool) -> None:
    reference = Res2Net(base_channels=16, stem_channels=16).eval()
    reference.load_state_dict(torch.load(official_checkpoint,
                                         weights_only=True))
    model = MODELS.build(dict(
        type='Res2NetIMG', with_cmem=False, temporal='none',
        channels_last=channels_last,
        init_cfg=dict(type='Pretrained', checkpoint=str(official_checkpoint)),
        **TINY))
    model.init_weights()
    model.eval()
    x = torch.randn(2 * T, 3, 64, 64)
    expected = reference.features(x)
    if not channels_last:  # the reference's own layout: same kernels
        torch.testing.assert_close(model(x), expected)
        return
    # The random checkpoint grows features to ~1e13; another layout sums
    # in another order, so compare relative to the largest feature.
    scale = expected.abs().max()
    torch.testing.assert_close(model(x) / scale, expected / scale,
                               rtol=0, atol=1e-5)


def test_pretrained_accepts_state_dict_wrapper_and_module_prefix(
        official_checkpoint: Path, tmp_path: Path) -> None:
    state = torch.load(official_checkpoint, weights_only=True)
    path = tmp_path / 'wrapped.pth'
    torch.save({'state_dict': {f'module.{k}': v for k, v in state.items()}},
               path)
    model = Res2NetIMG(**TINY)
    report = load_res2net_imagenet(model, str(path))
    assert report['unused'] == ['fc.bias', 'fc.weight']
    assert torch.equal(model.layer2.state_dict()['0.clim.convs.1.weight'],
                       state['layer2.0.convs.1.weight'])


def test_pretrained_mismatch_is_a_hard_error(tmp_path: Path) -> None:
    wrong = Res2Net(base_channels=8, stem_channels=16)  # other widths
    path = tmp_path / 'wrong.pth'
    save_official_format(wrong, path)
    model = Res2NetIMG(pretrained=str(path), **TINY)
    with pytest.raises(PretrainedMismatchError, match='shape mismatches'):
        model.init_weights()
    state = Res2Net(base_channels=16, stem_channels=16).state_dict()
    state['layer9.0.conv1.weight'] = torch.zeros(1)
    del state['layer1.0.bn3.weight']
    torch.save(state, path)
    with pytest.raises(PretrainedMismatchError) as err:
        Res2NetIMG(pretrained=str(path), **TINY).init_weights()
    assert 'layer9.0.conv1.weight' in str(err.value)
    assert 'layer1.0.bn3.weight' in str(err.value)


def tiny_backbone(**kwargs) -> Res2NetIMG:
    args = dict(stage_blocks=(2, 1, 1, 1), **TINY)
    args.update(kwargs)
    return Res2NetIMG(**args)


def test_every_parameter_gets_a_gradient() -> None:
    model = randomize_(
        tiny_backbone(shift_cfg=dict(init='random', shift_div=2)))
    model.train()
    x = torch.randn(2 * T, 3, 32, 32)
    model(x).pow(2).mean().backward()
    for name, param in model.named_parameters():
        assert param.grad is not None, name
        assert param.grad.abs().sum() > 0, name


def test_frames_never_mix_across_clips() -> None:
    model = randomize_(tiny_backbone()).eval()
    x = torch.randn(2 * T, 3, 32, 32)
    perturbed = x.clone()
    perturbed[T:] = torch.randn(T, 3, 32, 32)  # clip 2 only
    out, out_perturbed = model(x), model(perturbed)
    assert torch.equal(out[:T], out_perturbed[:T])
    assert not torch.allclose(out[T:], out_perturbed[T:])


def test_multi_view_batches_regroup_per_clip() -> None:
    """Views flattened into the batch are processed like separate clips."""
    # NCHW, whose kernels sum alike for any batch size, so the check can be
    # tight (oneDNN's channels_last kernels may not; the layouts are
    # compared in test_channels_last_changes_layout_not_values).
    model = randomize_(tiny_backbone(channels_last=False)).eval()
    views = torch.randn(3 * T, 3, 32, 32)
    together = model(views)
    apart = torch.cat([model(views[i * T:(i + 1) * T]) for i in range(3)])
    torch.testing.assert_close(together, apart, rtol=1e-5, atol=1e-5)


def test_channels_last_changes_layout_not_values() -> None:
    """Same weights in both layouts: same features, same gradients."""
    torch.manual_seed(0)
    shift_cfg = dict(init='random', shift_div=2)
    nchw = tiny_backbone(channels_last=False, shift_cfg=shift_cfg)
    last = tiny_backbone(shift_cfg=shift_cfg)  # the default
    last.load_state_dict(nchw.state_dict())
    conv_weights = [p for p in last.parameters() if p.dim() == 4]
    assert conv_weights and all(
        p.is_contiguous(memory_format=torch.channels_last)
        for p in conv_weights)
    x = torch.randn(2 * T, 3, 32, 32)
    outputs, grads = [], []
    for model, layout in ((nchw, torch.contiguous_format),
                          (last, torch.contiguous_format),
                          (last, torch.channels_last)):
        model.train()
        leaf = x.clone(memory_format=layout).requires_grad_(True)
        out = model(leaf)
        assert out.is_contiguous()  # heads may .view() it
        out.square().sum().backward()
        outputs.append(out.detach())
        grads.append([leaf.grad] + [p.grad.clone() for p in
                                     model.parameters()])
        model.zero_grad()
    # Another layout sums in another order: compare relative to the largest
    # value (a wrong layout would be off by O(1)).
    for out, grad in zip(outputs[1:], grads[1:]):
        for got, expected in zip([out] + grad, outputs[:1] + grads[0]):
            scale = expected.abs().max().clamp_min(1e-12)
            torch.testing.assert_close(got / scale, expected / scale,
                                       rtol=0, atol=1e-4)


def test_batch_not_multiple_of_segments_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match='Res2NetIMG: batch of 6 frames is '
                       'not a multiple of num_segments=4'):
        tiny_backbone()(torch.randn(6, 3, 32, 32))


def test_full_size_res2net50_26w_4s_has_the_official_keys_and_shapes(
) -> None:
    """Res2NetIMG-50 with IMG off is Res2Net-50 26w_4s, tensor for tensor."""
    reference = Res2Net()
    plain = Res2NetIMG(with_cmem=False, temporal='none')
    expected = {map_res2net_key(k): tuple(v.shape)
                for k, v in reference.state_dict().items()
                if not k.startswith('fc.')}
    assert {k: tuple(v.shape) for k, v in plain.state_dict().items()} == \
        expected
    params = sum(p.numel() for p in plain.parameters())
    fc = sum(p.numel() for p in reference.fc.parameters())
    # Res2Net-50 26w_4s: 25.70 M parameters with the 1000-class fc.
    assert round((params + fc) / 1e6, 2) == 25.70
    img = Res2NetIMG()
    new = {k for k in img.state_dict() if k not in plain.state_dict()}
    assert new and all('.cmem.' in k or '.clim.temporal.' in k for k in new)
    assert {k for k in plain.state_dict()} <= set(img.state_dict())


def test_full_size_img50_forward_keeps_clips_apart() -> None:
    """The one full-size forward: Res2NetIMG-50, 2 clips x 4 frames, 64x64."""
    model = Res2NetIMG(num_segments=T, shift_cfg=dict(init='random')).eval()
    x = torch.randn(2 * T, 3, 64, 64)
    perturbed = x.clone()
    perturbed[T:] = torch.randn(T, 3, 64, 64)
    with torch.no_grad():
        out, out_perturbed = model(x), model(perturbed)
    assert out.shape == (2 * T, 2048, 2, 2) and torch.isfinite(out).all()
    assert torch.equal(out[:T], out_perturbed[:T])
    assert not torch.allclose(out[T:], out_perturbed[T:])


def test_per_stage_switches_build_what_they_say() -> None:
    model = tiny_backbone(with_cmem=(False, True, True, False),
                          temporal=('none', 'shift', 'conv1d', 'shift'))
    assert model.layer1[0].cmem is None and model.layer2[0].cmem is not None
    kinds = [type(getattr(model, f'layer{i}')[0].clim.temporal[0]).__name__
             for i in range(1, 5)]
    assert kinds == ['Identity', 'AdaptiveShift', 'TemporalConv1d',
                     'AdaptiveShift']
    with pytest.raises(ValueError, match='with_cmem has 2 entries'):
        tiny_backbone(with_cmem=(True, False))
    with pytest.raises(ValueError, match=r"shift_cfg: unknown key\(s\) "
                       r"\['inti'\]"):
        tiny_backbone(with_cmem=False, temporal='none',
                      shift_cfg=dict(inti='tsm'))
    with pytest.raises(ValueError, match=r"cmem_cfg: unknown key\(s\)"):
        tiny_backbone(cmem_cfg=dict(ratio=8))


def batch_norm_states(model: torch.nn.Module):
    bns = [m for m in model.modules()
           if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    return [(m.training, m.weight.requires_grad) for m in bns]


def test_partial_bn_freezes_all_but_the_first_bn() -> None:
    states = batch_norm_states(tiny_backbone(partial_bn=True).train())
    assert states[0] == (True, True)
    assert all(state == (False, False) for state in states[1:])


def test_norm_eval_and_frozen_stages() -> None:
    model = tiny_backbone(norm_eval=True, frozen_stages=1).train()
    assert all(not training for training, _ in batch_norm_states(model))
    assert not any(p.requires_grad for p in model.layer1.parameters())
    assert not model.conv1.weight.requires_grad
    assert all(p.requires_grad for p in model.layer2.parameters())


def test_checkpointing_gives_the_same_gradients() -> None:
    torch.manual_seed(0)
    plain = randomize_(tiny_backbone()).train()
    checkpointed = tiny_backbone(with_cp=True).train()
    checkpointed.load_state_dict(plain.state_dict())
    x = torch.randn(T, 3, 32, 32)
    plain(x).sum().backward()
    checkpointed(x).sum().backward()
    for (name, a), (_, b) in zip(plain.named_parameters(),
                                 checkpointed.named_parameters()):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-5,
                                   msg=name)


# -- ResNetIMG ---------------------------------------------------------
def test_resnet_img_without_modules_equals_mmaction_resnet() -> None:
    ours = ResNetIMG(depth=50, num_segments=T, with_cmem=False,
                     temporal='none', pretrained=None)
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
    model = ResNetIMG(depth=50, num_segments=T, pretrained=str(path),
                      temporal=('none', 'shift', 'shift', 'conv1d'))
    model.init_weights()
    loaded = model.state_dict()
    for key, value in source.state_dict().items():
        assert torch.equal(loaded[key], value), key
    log = log_file.read_text()
    assert 'layer1.0.cmem.conv_prev.weight' in log
    assert 'layer2.0.temporal.weight' in log
    assert 'layer4.2.temporal.conv.weight' in log


def test_resnet_img_keeps_clips_apart_and_checks_the_batch() -> None:
    model = ResNetIMG(depth=50, num_segments=T, pretrained=None,
                      shift_cfg=dict(init='random'))
    model.init_weights()
    model.eval()
    x = torch.randn(2 * T, 3, 32, 32)
    perturbed = x.clone()
    perturbed[T:] = torch.randn(T, 3, 32, 32)
    with torch.no_grad():
        out, out_perturbed = model(x), model(perturbed)
    assert torch.equal(out[:T], out_perturbed[:T])
    assert not torch.allclose(out[T:], out_perturbed[T:])
    with pytest.raises(ValueError, match='ResNetIMG: batch of 6 frames is '
                       'not a multiple of num_segments=4'):
        model(torch.randn(6, 3, 32, 32))
