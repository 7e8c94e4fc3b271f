"""CLIM against Eq. 14 written out, with independent conv/BN/shift steps."""
import pytest
import torch
import torch.nn.functional as F

from img_mmaction.models import CLIM
from .utils import eq13_reference, randomize_

T = 4


def clim_reference(module: CLIM, x: torch.Tensor,
                   temporal: str) -> torch.Tensor:
    """Eq. 14 for four slices, every step from the module's raw weights.

    Res2Net's slice order: slices 0..2 are convolved (the paper's X_1..X_3)
    and slice 3 passes through (the paper's X_0).
    """
    slices = torch.split(x, module.width, 1)

    def conv_spt(i: int, inp: torch.Tensor) -> torch.Tensor:
        conv, bn = module.convs[i], module.bns[i]
        out = F.conv2d(inp, conv.weight, stride=conv.stride, padding=1)
        out = (out - bn.running_mean[:, None, None]
               ) / torch.sqrt(bn.running_var[:, None, None] + bn.eps)
        out = torch.relu(out * bn.weight[:, None, None] +
                         bn.bias[:, None, None])
        if temporal == 'shift':  # SSM, Eq. 13
            out = eq13_reference(module.temporal[i].weight.detach(), out, T)
        return out

    out1 = conv_spt(0, slices[0])  # X'_1 = SSM(conv(X_1))
    if module.first_block:  # Res2Net 'stage': no cascade
        out2 = conv_spt(1, slices[1])
        out3 = conv_spt(2, slices[2])
        out0 = F.avg_pool2d(slices[3], 3, module.convs[0].stride, 1)
    else:  # X'_i = SSM(conv(X_i + X'_i-1))
        out2 = conv_spt(1, slices[1] + out1)
        out3 = conv_spt(2, slices[2] + out2)
        out0 = slices[3]  # X'_0 = X_0
    return torch.cat([out1, out2, out3, out0], 1)


@pytest.mark.parametrize('temporal', ['shift', 'none'])
@pytest.mark.parametrize('first_block,stride', [(False, 1), (True, 2),
                                                (True, 1)])
def test_clim_matches_eq14(temporal: str, first_block: bool,
                           stride: int) -> None:
    temporal_cfg = (
        dict(type='AdaptiveShift', init='random')
        if temporal == 'shift' else None)
    module = CLIM(
        32,
        T,
        scales=4,
        stride=stride,
        first_block=first_block,
        temporal_cfg=temporal_cfg).eval()
    randomize_(module)
    x = torch.randn(2 * T, 32, 8, 8)
    torch.testing.assert_close(
        module(x), clim_reference(module, x, temporal), rtol=1e-5, atol=1e-5)


def test_clim_cascade_carries_time_further_than_one_shift() -> None:
    """Each shift reaches one frame; the cascade of three reaches three.

    With TSM kernels in every slice, a change at frame 0 of slice 0 reaches
    frame 1 through the first shift, and frames 2 and 3 only through the
    cascade X'_{i-1} -> X_i of Eq. 14.
    """
    module = randomize_(
        CLIM(32, T, temporal_cfg=dict(type='AdaptiveShift',
                                      shift_div=2))).eval()
    for shift in module.temporal:
        with torch.no_grad():
            shift.weight.zero_()
            shift.weight[:, 0] = 1.0  # every channel takes frame t-1
    x = torch.randn(T, 32, 4, 4)
    y = x.clone()
    y[0, :8] += 1  # frame 0 of slice 0 only
    diff = (module(x) - module(y)).abs().view(T, 4, 8, 4, 4)
    reached = diff.sum((2, 3, 4)) > 0  # [frame, slice]
    assert reached[:, 0].tolist() == [False, True, False, False]
    assert reached[:, 1].tolist() == [False, False, True, False]
    assert reached[:, 2].tolist() == [False, False, False, True]
    assert not reached[:, 3].any()  # the pass-through slice


def test_clim_every_parameter_gets_a_gradient() -> None:
    module = randomize_(
        CLIM(32, T, temporal_cfg=dict(type='AdaptiveShift', init='random')))
    module(torch.randn(2 * T, 32, 6, 6)).pow(2).mean().backward()
    for name, param in module.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_clim_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match='not divisible by scales=4'):
        CLIM(30, T, scales=4)
    with pytest.raises(ValueError, match="type 'tsm' is not registered"):
        CLIM(32, T, temporal_cfg=dict(type='tsm'))
    with pytest.raises(
            ValueError,
            match=r'CLIM: batch of 6 '
            r'frames is not a multiple of num_segments=4'):
        CLIM(
            16, T, temporal_cfg=dict(type='AdaptiveShift', shift_div=2))(
                torch.randn(6, 16, 4, 4))


def test_clim_with_one_scale_is_a_resnet_3x3_then_the_temporal_layer() -> None:
    """scales=1, Res2Net's own degenerate case: one slice, none passed on."""
    module = randomize_(
        CLIM(
            8,
            T,
            scales=1,
            stride=2,
            first_block=True,
            temporal_cfg=dict(type='AdaptiveShift', shift_div=4))).eval()
    assert len(module.convs) == 1
    x = torch.randn(2 * T, 8, 6, 6)
    bn = module.bns[0]
    out = F.conv2d(x, module.convs[0].weight, stride=2, padding=1)
    out = (out - bn.running_mean[:, None, None]
           ) / torch.sqrt(bn.running_var[:, None, None] + bn.eps)
    out = torch.relu(out * bn.weight[:, None, None] + bn.bias[:, None, None])
    expected = eq13_reference(module.temporal[0].weight.detach(), out, T)
    torch.testing.assert_close(module(x), expected, rtol=1e-5, atol=1e-5)


def test_clim_gives_each_slice_its_own_activation() -> None:
    """One call per activation module, so that a hook (GradCAM) pairs its
    forward and backward."""
    module = CLIM(32, T, temporal_cfg=None)
    calls = []
    for index, act in enumerate(module.acts):
        act.register_forward_hook(lambda *args, i=index: calls.append(i))
    module(torch.randn(T, 32, 4, 4))
    assert calls == [0, 1, 2]
