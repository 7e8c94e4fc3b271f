"""CMEM, AdaptiveShift, TemporalConv1d and CLIM against the paper's equations.

Each module is compared with a direct, slow re-computation of its equations
on the module's own weights, written independently of the implementation.
"""
import pytest
import torch
import torch.nn.functional as F
from mmaction.models.backbones.resnet_tsm import TemporalShift

from img_mmaction.models import CLIM, CMEM, AdaptiveShift, TemporalConv1d
from img_mmaction.models.adaptive_shift import tsm_kernel

from .utils import randomize_

T = 4


# -- AdaptiveShift (Eq. 13) -------------------------------------------------
@pytest.mark.parametrize('channels,shift_div', [(16, 8), (26, 8), (12, 4)])
def test_tsm_init_equals_mmaction_temporal_shift(channels: int,
                                                 shift_div: int) -> None:
    x = torch.randn(2 * T, channels, 5, 6, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_(True)
    ours = AdaptiveShift(channels, T, shift_div=shift_div, init='tsm')(x)
    ref = TemporalShift(torch.nn.Identity(), num_segments=T,
                        shift_div=shift_div)(x_ref)
    assert torch.equal(ours, ref)
    grad = torch.randn_like(ours)
    ours.backward(grad)
    ref.backward(grad)
    # The exact gradient is the output gradient shifted back: bitwise ours.
    fold = channels // shift_div
    g = grad.view(2, T, channels, -1)
    exact = torch.zeros_like(g)
    exact[:, 1:, :fold] = g[:, :-1, :fold]
    exact[:, :-1, fold:2 * fold] = g[:, 1:, fold:2 * fold]
    exact[:, :, 2 * fold:] = g[:, :, 2 * fold:]
    assert torch.equal(x.grad, exact.view_as(x))
    # MMAction2 builds its zero padding as ``x - x``, which adds float
    # rounding (~1 ulp) to its own gradient: equal within that.
    torch.testing.assert_close(x.grad, x_ref.grad, rtol=0, atol=1e-6)


def test_shift_equals_eq13_depthwise_conv_over_permuted_input() -> None:
    """The weighted-sum form equals Eq. 13's Reshape + conv1d for any K."""
    n, c, h, w = 3, 10, 4, 5
    module = AdaptiveShift(c, T, shift_div=4, init='random')
    x = torch.randn(n * T, c, h, w)
    # Eq. 13: X_rp = Reshape(X) in R^{NHW x C x T}; X_ss = K * X_rp
    x_rp = x.view(n, T, c, h, w).permute(0, 3, 4, 2, 1).reshape(-1, c, T)
    x_ss = F.conv1d(x_rp, module.weight.unsqueeze(1), padding=1, groups=c)
    expected = x_ss.view(n, h, w, c, T).permute(0, 4, 3, 1, 2).reshape(
        n * T, c, h, w)
    torch.testing.assert_close(module(x), expected, rtol=1e-6, atol=1e-6)


def test_tsm_kernel_is_eq13() -> None:
    kernel = tsm_kernel(16, 8)
    # K[c, 1, 3] = 1 for c <= C/8 (shift left: frame t+1)
    assert kernel[:2].tolist() == [[0, 0, 1]] * 2
    # K[c, 1, 1] = 1 for C/8 < c <= C/4 (shift right: frame t-1)
    assert kernel[2:4].tolist() == [[1, 0, 0]] * 2
    assert kernel[4:].tolist() == [[0, 1, 0]] * 12


def test_identity_init_is_a_no_op_and_frozen_has_no_grad() -> None:
    x = torch.randn(2 * T, 8, 3, 3)
    assert torch.equal(AdaptiveShift(8, T, init='identity')(x), x)
    frozen = AdaptiveShift(8, T, frozen=True)
    assert not frozen.weight.requires_grad
    assert 'weight' in frozen.state_dict()


@pytest.mark.parametrize('kwargs,match', [
    (dict(channels=4, shift_div=8), 'no channel would be shifted'),
    (dict(channels=16, init='zeros'), 'init must be one of'),
])
def test_shift_rejects_bad_arguments(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        AdaptiveShift(num_segments=T, **kwargs)


# -- TemporalConv1d ------------------------------------------------------------
def test_temporal_conv_identity_init_and_reference() -> None:
    x = torch.randn(2 * T, 6, 3, 3)
    module = TemporalConv1d(6, T)
    torch.testing.assert_close(module(x), x)
    torch.nn.init.normal_(module.conv.weight)
    w = module.conv.weight[:, :, :, 0, 0]  # [C_out, C_in, 3]
    x5 = x.view(2, T, 6, 3, 3)
    expected = torch.zeros_like(x5)
    for t in range(T):
        for k, dt in enumerate((-1, 0, 1)):
            if 0 <= t + dt < T:
                expected[:, t] += torch.einsum('oc,nchw->nohw', w[:, :, k],
                                               x5[:, t + dt])
    torch.testing.assert_close(module(x), expected.view_as(x), rtol=1e-5,
                               atol=1e-5)


# -- CMEM (Eqs. 1-9) -----------------------------------------------------------
def cmem_reference(module: CMEM, x: torch.Tensor) -> torch.Tensor:
    """Eqs. 1-9 computed literally, frame by frame."""
    n = x.shape[0] // T
    xr = F.conv2d(x, module.conv_prev.weight)                        # Eq. 1
    xr = xr.view(n, T, *xr.shape[1:])
    out = []
    for clip in range(n):
        frames = []
        for t in range(T):
            if t == T - 1:                         # "fill the ends with 0s"
                m_q = torch.zeros(xr.shape[2])
                p = torch.zeros(xr.shape[2])
            else:
                a = F.conv2d(xr[clip, t + 1:t + 2], module.conv_trans.weight,
                             padding=1)[0]
                b = F.conv2d(xr[clip, t:t + 1], module.conv_trans.weight,
                             padding=1)[0]
                m = a - b                                            # Eq. 3
                m_q = m.mean(dim=(1, 2))                             # Eq. 6
                a, b = a.flatten(1), b.flatten(1)                    # Eq. 5
                p = (a * b).sum(1) / torch.clamp(
                    a.norm(dim=1) * b.norm(dim=1), min=1e-30)        # Eq. 4
            f = module.alpha * m_q + module.beta * p                 # Eq. 7
            z = module.conv_exp.weight[:, :, 0, 0] @ f + module.conv_exp.bias
            f_s = 2 * torch.sigmoid(z) - 1                           # Eq. 8
            xt = x[clip * T + t]
            frames.append(xt + xt * f_s[:, None, None])              # Eq. 9
        out.extend(frames)
    return torch.stack(out)


@pytest.mark.parametrize('alpha,beta', [(1.0, 1.0), (0.3, 2.0)])
def test_cmem_matches_equations(alpha: float, beta: float) -> None:
    module = CMEM(32, T, reduction=4, alpha=alpha, beta=beta)
    randomize_(module)
    x = torch.randn(2 * T, 32, 6, 5)
    torch.testing.assert_close(module(x), cmem_reference(module, x),
                               rtol=1e-4, atol=1e-5)


def test_cmem_attention_range_and_last_frame() -> None:
    module = randomize_(CMEM(16, T, reduction=4))
    x = torch.randn(3 * T, 16, 4, 4)
    attention = module.attention(x)
    assert attention.shape == (3 * T, 16, 1, 1)
    assert attention.abs().max() < 1
    # F is zero on the last frame: its attention is 2*sigmoid(bias) - 1.
    last = attention.view(3, T, 16)[:, -1]
    expected = 2 * torch.sigmoid(module.conv_exp.bias) - 1
    torch.testing.assert_close(last, expected.expand(3, 16))


def test_cmem_all_zero_frames_are_finite() -> None:
    module = randomize_(CMEM(16, T, reduction=4))
    x = torch.zeros(2 * T, 16, 4, 4, requires_grad=True)
    out = module(x)
    out.sum().backward()
    assert torch.isfinite(out).all() and torch.isfinite(x.grad).all()
    for param in module.parameters():
        assert torch.isfinite(param.grad).all()


# -- CLIM (Eq. 14) ---------------------------------------------------------------
def clim_reference(module: CLIM, x: torch.Tensor) -> torch.Tensor:
    """Eq. 14 written out for four slices (Res2Net's slice order)."""
    slices = torch.split(x, module.width, 1)

    def conv_spt(i, inp):
        return module.temporal[i](module.act(module.bns[i](
            module.convs[i](inp))))

    out0 = conv_spt(0, slices[0])                # X'_1 = SSM(conv(X_1))
    if module.first_block:
        out1 = conv_spt(1, slices[1])
        out2 = conv_spt(2, slices[2])
    else:
        out1 = conv_spt(1, slices[1] + out0)     # X'_i = SSM(conv(X_i + X'_{i-1}))
        out2 = conv_spt(2, slices[2] + out1)
    passthrough = module.pool(slices[3])         # X'_0 = X_0
    return torch.cat([out0, out1, out2, passthrough], 1)


@pytest.mark.parametrize('first_block,stride', [(False, 1), (True, 2),
                                                (True, 1)])
def test_clim_matches_eq14(first_block: bool, stride: int) -> None:
    module = CLIM(32, T, scales=4, stride=stride, first_block=first_block,
                  shift_init='random').eval()
    randomize_(module)
    x = torch.randn(2 * T, 32, 8, 8)
    torch.testing.assert_close(module(x), clim_reference(module, x))


def test_clim_shift_mixes_frames_only_within_each_slice_chain() -> None:
    """With the shift at TSM init, changing frame 0 changes frame 1."""
    module = CLIM(32, T).eval()
    x = torch.randn(T, 32, 4, 4)
    y = x.clone()
    y[0] += 1
    diff = (module(x) - module(y)).abs().flatten(1).sum(1)
    assert diff[1] > 0 and diff[0] > 0


def test_clim_rejects_indivisible_channels() -> None:
    with pytest.raises(ValueError, match='not divisible by scales=4'):
        CLIM(30, T, scales=4)


@pytest.mark.parametrize('module', [
    lambda: CMEM(16, T), lambda: AdaptiveShift(16, T),
    lambda: TemporalConv1d(16, T), lambda: CLIM(16, T, shift_div=2)])
def test_batch_not_multiple_of_segments_raises(module) -> None:
    with pytest.raises(ValueError,
                       match=r'batch of 6 frames is not a multiple of '
                       r'num_segments=4'):
        module()(torch.randn(6, 16, 4, 4))
