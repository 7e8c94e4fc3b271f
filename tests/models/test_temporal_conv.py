"""TemporalConv1d, the dense (2+1)D temporal layer, against its definition."""
import pytest
import torch

from img_mmaction.models import TemporalConv1d

T = 4


def test_temporal_conv_identity_init_and_dense_reference() -> None:
    x = torch.randn(2 * T, 6, 3, 3)
    module = TemporalConv1d(6, T)
    torch.testing.assert_close(module(x), x)
    torch.nn.init.normal_(module.conv.weight)
    w = module.conv.weight[:, :, :, 0, 0]  # [C_out, C_in, 3]
    clips = x.view(2, T, 6, 3, 3)
    expected = torch.zeros_like(clips)
    for t in range(T):
        for k, dt in enumerate((-1, 0, 1)):
            if 0 <= t + dt < T:
                expected[:, t] += torch.einsum('oc,nchw->nohw', w[:, :, k],
                                               clips[:, t + dt])
    torch.testing.assert_close(
        module(x), expected.view_as(x), rtol=1e-5, atol=1e-5)
    # Dense, not depthwise: output channel 0 of frame 1 sees input
    # channel 5 of frame 0.
    y = x.clone()
    y.view(2, T, 6, 3, 3)[:, 0, 5] += 1
    diff = (module(y) - module(x)).view(2, T, 6, 3, 3)
    assert diff[:, 1, 0].abs().sum() > 0


def test_temporal_conv_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="init must be 'identity' or"):
        TemporalConv1d(6, T, init='tsm')
    with pytest.raises(
            ValueError,
            match=r'batch of 6 frames is not a '
            r'multiple of num_segments=4'):
        TemporalConv1d(16, T)(torch.randn(6, 16, 4, 4))
