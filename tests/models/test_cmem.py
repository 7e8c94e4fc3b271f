"""CMEM against a direct, slow re-computation of Eqs. 1-9."""
import pytest
import torch
import torch.nn.functional as F

from img_mmaction.models import CMEM
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
