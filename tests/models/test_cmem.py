"""CMEM against a direct, slow re-computation of Eqs. 1-9."""
import pytest
import torch
import torch.nn.functional as F

from img_mmaction.models import CMEM
from img_mmaction.models.cmem import CMEMFrame
from .utils import randomize_

T = 4


def cmem_reference(module: CMEM, x: torch.Tensor) -> torch.Tensor:
    """Eqs. 1-9 computed literally, clip by clip and frame by frame.

    ``conv_trans`` is applied separately to frames t+1 and t (Eq. 3 as
    printed), M is kept at full resolution and pooled after (Eq. 6), and the
    cosine is Eq. 5 over the H*W positions of each channel.
    """
    n = x.shape[0] // T
    xr = F.conv2d(x, module.conv_prev.weight)  # Eq. 1
    xr = xr.view(n, T, *xr.shape[1:])
    out = []
    for clip in range(n):
        for t in range(T):
            if t == T - 1:  # "fill the ends with 0s"
                m_q = torch.zeros(xr.shape[2], dtype=x.dtype)
                p = torch.zeros(xr.shape[2], dtype=x.dtype)
            else:
                a = F.conv2d(
                    xr[clip, t + 1:t + 2], module.conv_trans.weight,
                    padding=1)[0]
                b = F.conv2d(
                    xr[clip, t:t + 1], module.conv_trans.weight, padding=1)[0]
                m = a - b  # Eq. 3
                m_q = m.mean(dim=(1, 2))  # Eq. 6
                a, b = a.flatten(1), b.flatten(1)
                p = (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))  # Eq. 5
            f = module.alpha * m_q + module.beta * p  # Eq. 7
            z = module.conv_exp.weight[:, :, 0, 0] @ f + module.conv_exp.bias
            f_s = 2 * torch.sigmoid(z) - 1  # Eq. 8
            xt = x[clip * T + t]
            out.append(xt + xt * f_s[:, None, None])  # Eq. 9
    return torch.stack(out)


@pytest.mark.parametrize('alpha,beta', [(1.0, 1.0), (0.3, 2.0)])
def test_cmem_matches_equations(alpha: float, beta: float) -> None:
    module = randomize_(CMEM(32, T, reduction=4, alpha=alpha,
                             beta=beta)).double()
    x = torch.randn(2 * T, 32, 6, 5, dtype=torch.double)
    torch.testing.assert_close(module(x), cmem_reference(module, x))


def test_cmem_feature_separates_difference_and_cosine() -> None:
    """alpha scales M^q and beta scales P: F(1, 0) + F(0, 1) = F(1, 1)."""
    x = torch.randn(2 * T, 16, 5, 5)
    features = {}
    for alpha, beta in [(1.0, 0.0), (0.0, 1.0), (1.0, 1.0)]:
        torch.manual_seed(3)
        features[alpha, beta] = CMEM(
            16, T, reduction=4, alpha=alpha, beta=beta).motion_feature(x)
    torch.testing.assert_close(features[1.0, 0.0] + features[0.0, 1.0],
                               features[1.0, 1.0])
    cosine = features[0.0, 1.0]
    assert cosine.abs().max() <= 1 + 1e-6
    assert cosine.abs().max() > 0.05  # not vanishing


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


@pytest.mark.parametrize('zero_frames', [slice(None), slice(1, 3)])
def test_cmem_zero_frames_give_finite_output_and_gradients(zero_frames: slice
                                                           ) -> None:
    """Cosine of all-zero maps (every frame, or two inside a clip)."""
    module = randomize_(CMEM(16, T, reduction=4))
    x = torch.randn(2, T, 16, 4, 4)
    x[:, zero_frames] = 0
    x = x.view(2 * T, 16, 4, 4).requires_grad_(True)
    out = module(x)
    out.pow(2).sum().backward()
    assert torch.isfinite(out).all() and torch.isfinite(x.grad).all()
    for name, param in module.named_parameters():
        assert torch.isfinite(param.grad).all(), name


def test_cmem_every_parameter_gets_a_gradient() -> None:
    module = randomize_(CMEM(16, T, reduction=4, norm_cfg=dict(type='BN')))
    x = torch.randn(2 * T, 16, 5, 5)
    module(x).pow(2).mean().backward()
    for name, param in module.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_cmem_never_mixes_clips() -> None:
    module = randomize_(CMEM(16, T, reduction=4)).eval()
    x = torch.randn(2 * T, 16, 5, 5)
    y = x.clone()
    y[T:] = torch.randn(T, 16, 5, 5)
    assert torch.equal(module(x)[:T], module(y)[:T])
    assert not torch.allclose(module(x)[T:], module(y)[T:])


def test_cmem_errors() -> None:
    with pytest.raises(
            ValueError,
            match=r'CMEM: batch of 6 frames is not a '
            r'multiple of num_segments=4'):
        CMEM(16, T)(torch.randn(6, 16, 4, 4))
    with pytest.raises(ValueError, match='reduction'):
        CMEM(16, T, reduction=0)


def test_identity_init_passes_features_unchanged_and_still_learns() -> None:
    """``init='identity'``: F^s = 0 at step 0, so X^o = X (Eq. 9), while
    conv_exp still receives a gradient."""
    module = CMEM(16, T, reduction=4, init='identity')
    x = torch.randn(2 * T, 16, 5, 5, requires_grad=True)
    out = module(x)
    assert torch.equal(out, x)
    out.pow(2).sum().backward()
    assert module.conv_exp.weight.grad.abs().sum() > 0
    default = CMEM(16, T, reduction=4)
    assert default.init == 'random'
    assert not torch.equal(default(x), x)


def test_identity_init_survives_a_parents_initialiser() -> None:
    module = CMEM(16, T, reduction=4, init='identity')
    torch.nn.init.kaiming_normal_(module.conv_exp.weight)  # e.g. ResNet's
    module.init_weights()
    assert not module.conv_exp.weight.any() and not module.conv_exp.bias.any()
    with pytest.raises(ValueError, match='init must be one of'):
        CMEM(16, T, init='zeros')


# -- causal form (OURS, docs/online.md) --------------------------------
def cmem_causal_reference(module: CMEM, x: torch.Tensor) -> torch.Tensor:
    """The causal CMEM computed literally, clip by clip and frame by frame.

    As :func:`cmem_reference`, with M(t) = Y(t) - Y(t-1) and
    P(t) = cos(Y(t), Y(t-1)), and zeros for the FIRST frame of a clip.
    """
    n = x.shape[0] // T
    xr = F.conv2d(x, module.conv_prev.weight)  # Eq. 1
    xr = xr.view(n, T, *xr.shape[1:])
    out = []
    for clip in range(n):
        for t in range(T):
            if t == 0:  # nothing before the first frame
                m_q = torch.zeros(xr.shape[2], dtype=x.dtype)
                p = torch.zeros(xr.shape[2], dtype=x.dtype)
            else:
                a = F.conv2d(
                    xr[clip, t:t + 1], module.conv_trans.weight, padding=1)[0]
                b = F.conv2d(
                    xr[clip, t - 1:t], module.conv_trans.weight, padding=1)[0]
                m_q = (a - b).mean(dim=(1, 2))
                a, b = a.flatten(1), b.flatten(1)
                p = (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))
            f = module.alpha * m_q + module.beta * p
            z = module.conv_exp.weight[:, :, 0, 0] @ f + module.conv_exp.bias
            xt = x[clip * T + t]
            out.append(xt + xt * (2 * torch.sigmoid(z) - 1)[:, None, None])
    return torch.stack(out)


def test_cmem_is_not_causal_by_default() -> None:
    assert CMEM(16, T).causal is False


@pytest.mark.parametrize('alpha,beta', [(1.0, 1.0), (0.3, 2.0)])
def test_causal_cmem_matches_literal_computation(alpha: float,
                                                 beta: float) -> None:
    module = randomize_(
        CMEM(32, T, reduction=4, alpha=alpha, beta=beta,
             causal=True)).double()
    x = torch.randn(2 * T, 32, 6, 5, dtype=torch.double)
    torch.testing.assert_close(module(x), cmem_causal_reference(module, x))
    # Not the paper's CMEM with the same weights.
    offline = CMEM(32, T, reduction=4, alpha=alpha, beta=beta).double()
    weights = module.state_dict()
    del weights['causal_marker']  # the mode is in the weights
    offline.load_state_dict(weights)
    assert not torch.allclose(offline(x), module(x))


def test_causal_cmem_frame_t_never_sees_later_frames() -> None:
    module = randomize_(CMEM(16, T, reduction=4, causal=True)).double()
    x = torch.randn(2, T, 16, 5, 5, dtype=torch.double, requires_grad=True)
    out = module(x.view(2 * T, 16, 5, 5)).view(2, T, 16, 5, 5)
    for t in range(T):
        grad, = torch.autograd.grad(out[:, t].sum(), x, retain_graph=True)
        assert torch.count_nonzero(grad[:, t + 1:]) == 0
        assert torch.count_nonzero(grad[:, t]) > 0
        assert t == 0 or torch.count_nonzero(grad[:, t - 1]) > 0


@pytest.mark.parametrize(
    'layout', [torch.contiguous_format, torch.channels_last],
    ids=['nchw', 'channels_last'])
def test_causal_cmem_stream_step_equals_forward(layout: torch.memory_format
                                                ) -> None:
    """Frame by frame through stream_step = the clip through forward."""
    module = randomize_(CMEM(16, T, reduction=4, causal=True)).double()
    module.to(memory_format=layout)
    x = torch.randn(3, T, 16, 5, 4, dtype=torch.double)
    expected = module(
        x.view(3 * T, 16, 5,
               4).contiguous(memory_format=layout)).view(3, T, 16, 5, 4)
    cache = None
    for t in range(T):
        frame = x[:, t].contiguous(memory_format=layout)
        out, cache = module.stream_step(frame, cache)
        torch.testing.assert_close(out, expected[:, t])
        # Frame t's conv_trans output with its statistics, computed once.
        assert isinstance(cache, CMEMFrame)
        assert cache.y.shape == (3, 4, 5 * 4)
        torch.testing.assert_close(cache.mean, cache.y.mean(dim=2))
        torch.testing.assert_close(cache.norm, cache.y.norm(dim=2))


def test_causal_cmem_stream_step_fresh_streams_restart() -> None:
    module = randomize_(CMEM(16, T, reduction=4, causal=True)).double()
    x = torch.randn(2, 16, 5, 5, dtype=torch.double)
    first, _ = module.stream_step(x, None)
    _, cache = module.stream_step(torch.randn_like(x), None)
    fresh = torch.tensor([True, False])
    out, _ = module.stream_step(x, cache, fresh)
    torch.testing.assert_close(out[0], first[0])
    assert not torch.allclose(out[1], first[1])


def test_cmem_stream_step_errors() -> None:
    with pytest.raises(RuntimeError, match='CMEM.stream_step needs causal'):
        CMEM(16, T).stream_step(torch.randn(1, 16, 4, 4), None)
    module = CMEM(16, T, reduction=4, causal=True)
    _, cache = module.stream_step(torch.randn(2, 16, 4, 4), None)
    with pytest.raises(ValueError, match=r'cache of shape \(2, 4, 16\)'):
        module.stream_step(torch.randn(3, 16, 4, 4), cache)
