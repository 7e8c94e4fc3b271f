"""Res2NetIMG and ResNetIMG: Res2Net equivalence, weights, BN policies."""
from pathlib import Path

import pytest
import torch
from mmaction.registry import MODELS

from img_mmaction.models import (CMEM, AdaptiveShift, IMGBottleneck,
                                 Res2NetIMG, map_res2net_key)
from .reference_res2net import Bottle2neck, Res2Net
from .utils import randomize_

T = 4
# Slices are 6 channels wide at base_channels=16: shift 1/2 of them.
TINY = dict(
    base_channels=16,
    stem_channels=16,
    num_segments=T,
    temporal_cfg=dict(type='AdaptiveShift', shift_div=2))
#: The adaptive shift with a random kernel, on 6-channel slices.
RANDOM_SHIFT = dict(type='AdaptiveShift', init='random', shift_div=2)


def save_official_format(model: torch.nn.Module, path: Path) -> None:
    """Saves a state dict under the official checkpoint's key names."""
    torch.save(model.state_dict(), path)


@pytest.mark.parametrize('stage', [False, True])
def test_block_without_cmem_and_identity_shift_is_res2net(stage: bool) -> None:
    inplanes = 64 if stage else 256
    downsample = torch.nn.Sequential(
        torch.nn.Conv2d(inplanes, 256, 1, 2 if stage else 1, bias=False),
        torch.nn.BatchNorm2d(256)) if stage else None
    reference = randomize_(
        Bottle2neck(inplanes, 64, 2 if stage else 1, downsample,
                    stage=stage)).eval()
    block = IMGBottleneck(
        inplanes,
        64,
        T,
        stride=2 if stage else 1,
        downsample=torch.nn.Sequential(
            torch.nn.Conv2d(inplanes, 256, 1, 2, bias=False),
            torch.nn.BatchNorm2d(256)) if stage else None,
        first_block=stage,
        with_cmem=False,
        temporal_cfg=dict(type='AdaptiveShift', init='identity')).eval()
    state = {
        map_res2net_key(f'layer1.0.{k}')[len('layer1.0.'):]: v
        for k, v in reference.state_dict().items()
    }
    missing, unexpected = block.load_state_dict(state, strict=False)
    assert unexpected == []
    assert all('.temporal.' in k for k in missing)  # only the shift is new
    x = torch.randn(2 * T, inplanes, 8, 8)
    torch.testing.assert_close(block(x), reference(x))


def tiny_backbone(**kwargs) -> Res2NetIMG:
    args = dict(stage_blocks=(2, 1, 1, 1), **TINY)
    args.update(kwargs)
    return Res2NetIMG(**args)


def test_every_parameter_gets_a_gradient() -> None:
    model = randomize_(tiny_backbone(temporal_cfg=RANDOM_SHIFT))
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
    nchw = tiny_backbone(channels_last=False, temporal_cfg=RANDOM_SHIFT)
    last = tiny_backbone(temporal_cfg=RANDOM_SHIFT)  # the default
    last.load_state_dict(nchw.state_dict())
    conv_weights = [p for p in last.parameters() if p.dim() == 4]
    assert conv_weights and all(
        p.is_contiguous(memory_format=torch.channels_last)
        for p in conv_weights)
    # One layout per stage: stem and stage 1 channels_last, then NCHW.
    mixed = tiny_backbone(
        channels_last=(True, False, False, True), temporal_cfg=RANDOM_SHIFT)
    mixed.load_state_dict(nchw.state_dict())
    for name, param in mixed.named_parameters():
        if param.dim() == 4:
            layout = (
                torch.contiguous_format if name.startswith(
                    ('layer2.', 'layer3.')) else torch.channels_last)
            assert param.is_contiguous(memory_format=layout), name
    x = torch.randn(2 * T, 3, 32, 32)
    outputs, grads = [], []
    for model, layout in ((nchw, torch.contiguous_format),
                          (last, torch.contiguous_format),
                          (last, torch.channels_last),
                          (mixed, torch.contiguous_format)):
        model.train()
        leaf = x.clone(memory_format=layout).requires_grad_(True)
        out = model(leaf)
        assert out.is_contiguous()  # heads may .view() it
        out.square().sum().backward()
        outputs.append(out.detach())
        grads.append([leaf.grad] +
                     [p.grad.clone() for p in model.parameters()])
        model.zero_grad()
    # Another layout sums in another order: compare relative to the largest
    # value (a wrong layout would be off by O(1)).
    for out, grad in zip(outputs[1:], grads[1:]):
        for got, expected in zip([out] + grad, outputs[:1] + grads[0]):
            scale = expected.abs().max().clamp_min(1e-12)
            torch.testing.assert_close(
                got / scale, expected / scale, rtol=0, atol=1e-4)


def test_channels_last_per_stage_needs_one_entry_per_stage() -> None:
    with pytest.raises(
            ValueError, match='channels_last has 2 entries for 4 stages'):
        tiny_backbone(channels_last=(True, False))


def test_batch_not_multiple_of_segments_is_a_clear_error() -> None:
    with pytest.raises(
            ValueError,
            match='Res2NetIMG: batch of 6 frames is '
            'not a multiple of num_segments=4'):
        tiny_backbone()(torch.randn(6, 3, 32, 32))


def test_full_size_res2net50_26w_4s_has_the_official_keys_and_shapes() -> None:
    """Res2NetIMG-50 with IMG off is Res2Net-50 26w_4s, tensor for tensor."""
    reference = Res2Net()
    plain = Res2NetIMG(with_cmem=False, temporal_cfg=None)
    expected = {
        map_res2net_key(k): tuple(v.shape)
        for k, v in reference.state_dict().items() if not k.startswith('fc.')
    }
    assert {k: tuple(v.shape) for k, v in plain.state_dict().items()} == \
        expected
    params = sum(p.numel() for p in plain.parameters())
    fc = sum(p.numel() for p in reference.fc.parameters())
    # Res2Net-50 26w_4s: 25.70 M parameters with the 1000-class fc.
    assert round((params + fc) / 1e6, 2) == 25.70
    img = Res2NetIMG()
    new = {k for k in img.state_dict() if k not in plain.state_dict()}
    assert new and all('.cmem.' in k or '.clim.temporal.' in k for k in new)
    # the default is the paper's: CMEM and the TSM-initialised shift
    assert isinstance(img.layer1[0].cmem, CMEM)
    shift = img.layer4[2].clim.temporal[2]
    assert isinstance(shift, AdaptiveShift) and shift.init == 'tsm' \
        and not shift.frozen
    assert {k for k in plain.state_dict()} <= set(img.state_dict())


def test_full_size_img50_forward_keeps_clips_apart() -> None:
    """The one full-size forward: Res2NetIMG-50, 2 clips x 4 frames, 64x64."""
    model = Res2NetIMG(
        num_segments=T, temporal_cfg=dict(type='AdaptiveShift',
                                          init='random')).eval()
    x = torch.randn(2 * T, 3, 64, 64)
    perturbed = x.clone()
    perturbed[T:] = torch.randn(T, 3, 64, 64)
    with torch.no_grad():
        out, out_perturbed = model(x), model(perturbed)
    assert out.shape == (2 * T, 2048, 2, 2) and torch.isfinite(out).all()
    assert torch.equal(out[:T], out_perturbed[:T])
    assert not torch.allclose(out[T:], out_perturbed[T:])


def test_per_stage_switches_build_what_they_say() -> None:
    shift = dict(type='AdaptiveShift', shift_div=2)
    model = tiny_backbone(
        with_cmem=(False, True, True, False),
        temporal_cfg=[None, shift,
                      dict(type='TemporalConv1d'), shift])
    assert isinstance(model.layer1[0].cmem, torch.nn.Identity)
    assert isinstance(model.layer2[0].cmem, CMEM)
    kinds = [
        type(getattr(model, f'layer{i}')[0].clim.temporal[0]).__name__
        for i in range(1, 5)
    ]
    assert kinds == [
        'Identity', 'AdaptiveShift', 'TemporalConv1d', 'AdaptiveShift'
    ]
    with pytest.raises(ValueError, match='with_cmem has 2 entries'):
        tiny_backbone(with_cmem=(True, False))
    with pytest.raises(ValueError, match='temporal_cfg has 3 entries'):
        tiny_backbone(temporal_cfg=[None, None, None])
    with pytest.raises(ValueError, match=r"unknown argument\(s\): 'inti'"):
        tiny_backbone(
            with_cmem=False,
            temporal_cfg=dict(type='AdaptiveShift', inti='tsm'))
    with pytest.raises(
            ValueError, match=r"cmem_cfg: unknown key\(s\) "
            r"\['ratio'\]"):
        tiny_backbone(cmem_cfg=dict(ratio=8))


@pytest.mark.parametrize('kwargs,match', [
    (dict(with_cmen=True), "'with_cmen' \\(did you mean 'with_cmem'\\?\\)"),
    (dict(temporal='shift'), "'temporal' was replaced by temporal_cfg"),
    (dict(shift_cfg=dict(init='tsm')), "'shift_cfg' was replaced by "
     "temporal_cfg"),
])
def test_unknown_arguments_name_the_right_one(kwargs: dict,
                                              match: str) -> None:
    with pytest.raises(TypeError, match=match):
        tiny_backbone(**kwargs)


def test_identity_cmem_option_reaches_every_block() -> None:
    model = tiny_backbone(cmem_cfg=dict(reduction=4, init='identity'))
    cmems = [m for m in model.modules() if isinstance(m, CMEM)]
    assert len(cmems) == 5
    assert all(not m.conv_exp.weight.any() for m in cmems)


def test_tsm_placement_puts_the_layer_on_each_block_input() -> None:
    """``input_temporal_cfg``: TSM's residual shift, before conv1."""
    model = tiny_backbone(
        with_cmem=False,
        temporal_cfg=None,
        input_temporal_cfg=dict(
            type='AdaptiveShift', shift_div=8, frozen=True))
    first = model.layer1[0]
    assert isinstance(first.input_temporal, AdaptiveShift)
    assert first.input_temporal.channels == 16  # the stem's output
    assert model.layer2[0].input_temporal.channels == 64
    calls = []
    first.input_temporal.register_forward_hook(
        lambda *args: calls.append('shift'))
    first.conv1.register_forward_hook(lambda *args: calls.append('conv1'))
    model(torch.randn(T, 3, 32, 32))
    assert calls == ['shift', 'conv1']
    assert not first.input_temporal.weight.requires_grad


def batch_norm_states(model: torch.nn.Module):
    bns = [
        m for m in model.modules()
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
    ]
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
        torch.testing.assert_close(
            a.grad, b.grad, rtol=1e-4, atol=1e-5, msg=name)


@pytest.mark.parametrize('value', [0.0, 1.0])
def test_constant_videos_give_finite_loss_and_gradients(value: float) -> None:
    from img_mmaction.testing.reference_recognizers import res2net_img
    cfg = res2net_img(
        4,
        base_channels=16,
        stem_channels=16,
        temporal_cfg=dict(type='AdaptiveShift', shift_div=2))
    cfg['cls_head'].update(in_channels=512, num_segments=4)
    model = MODELS.build(cfg)
    model.init_weights()
    model.train()
    inputs = torch.full((2, 4, 3, 32, 32), value * 255)
    scores, _ = model.extract_feat(inputs, stage='head')
    loss = torch.nn.functional.cross_entropy(scores, torch.tensor([0, 1]))
    loss.backward()
    assert torch.isfinite(loss)
    assert all(
        torch.isfinite(p.grad).all() for p in model.parameters()
        if p.grad is not None)
