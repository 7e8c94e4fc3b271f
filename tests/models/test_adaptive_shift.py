"""AdaptiveShift (Eq. 13) against TSM's shift and the equation."""
import pytest
import torch
from mmaction.models.backbones.resnet_tsm import TemporalShift

from img_mmaction.models import AdaptiveShift
from img_mmaction.models.temporal.adaptive_shift import (_ShiftFunction,
                                                         tsm_kernel)

T = 4


def eq13_reference(weight: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Eq. 13 written out frame by frame: out[t] = sum_k K[:, k] x[t+k-1]."""
    clips = x.view(-1, T, *x.shape[1:])
    out = torch.zeros_like(clips)
    for t in range(T):
        for k, dt in enumerate((-1, 0, 1)):
            if 0 <= t + dt < T:
                out[:, t] += weight[:, k, None, None] * clips[:, t + dt]
    return out.view_as(x)


# -- TSM equivalence ---------------------------------------------------
LAYOUTS = [torch.contiguous_format, torch.channels_last]


@pytest.mark.parametrize('layout', LAYOUTS, ids=['nchw', 'channels_last'])
@pytest.mark.parametrize('impl', ['sum', 'conv1d'])
@pytest.mark.parametrize('channels,shift_div', [(16, 8), (26, 8), (12, 4)])
def test_tsm_init_equals_mmaction_temporal_shift(impl: str, channels: int,
                                                 shift_div: int,
                                                 layout: torch.memory_format
                                                 ) -> None:
    """Forward and input gradient equal MMAction2's TemporalShift exactly.

    Integer-valued inputs and output gradients make every sum exact, so
    bitwise equality holds whatever order each implementation adds in:
    MMAction2 pads with ``x - x``, whose gradient (a + b) - b rounds on
    general floats.
    """
    x = torch.randint(-8, 9, (2 * T, channels, 5, 6)).float()
    grad = torch.randint(-8, 9, x.shape).float()
    ours_x = x.clone(memory_format=layout).requires_grad_(True)
    ref_x = x.clone().requires_grad_(True)
    ours = AdaptiveShift(
        channels, T, shift_div=shift_div, init='tsm', impl=impl)(
            ours_x)
    ref = TemporalShift(
        torch.nn.Identity(), num_segments=T, shift_div=shift_div)(
            ref_x)
    assert torch.equal(ours, ref)
    if impl == 'sum':  # no copy into another layout
        assert ours.is_contiguous(memory_format=layout)
    ours.backward(grad.clone(memory_format=layout))
    ref.backward(grad)
    assert torch.equal(ours_x.grad, ref_x.grad)


def test_tsm_init_forward_and_gradient_are_exact_on_general_floats() -> None:
    channels, shift_div = 16, 8
    x = torch.randn(3 * T, channels, 4, 5, requires_grad=True)
    out = AdaptiveShift(channels, T, shift_div=shift_div)(x)
    ref = TemporalShift(
        torch.nn.Identity(), num_segments=T, shift_div=shift_div)(
            x.detach())
    assert torch.equal(out, ref)
    grad = torch.randn_like(out)
    out.backward(grad)
    # The exact input gradient is the output gradient shifted back.
    fold = channels // shift_div
    g = grad.view(3, T, channels, -1)
    exact = torch.zeros_like(g)
    exact[:, 1:, :fold] = g[:, :-1, :fold]
    exact[:, :-1, fold:2 * fold] = g[:, 1:, fold:2 * fold]
    exact[:, :, 2 * fold:] = g[:, :, 2 * fold:]
    assert torch.equal(x.grad, exact.view_as(x))


def test_tsm_kernel_is_eq13() -> None:
    kernel = tsm_kernel(16, 8)
    # K[c, 1, 3] = 1 for c <= C/8 (shift left: frame t+1)
    assert kernel[:2].tolist() == [[0, 0, 1]] * 2
    # K[c, 1, 1] = 1 for C/8 < c <= C/4 (shift right: frame t-1)
    assert kernel[2:4].tolist() == [[1, 0, 0]] * 2
    assert kernel[4:].tolist() == [[0, 1, 0]] * 12


# -- any kernel: the two implementations and Eq. 13 ------------------
@pytest.mark.parametrize('layout', LAYOUTS, ids=['nchw', 'channels_last'])
def test_both_implementations_equal_eq13_in_value_and_gradient(
        layout: torch.memory_format) -> None:
    n, c, h, w = 3, 10, 4, 5
    summed = AdaptiveShift(c, T, shift_div=4, init='random', impl='sum')
    literal = AdaptiveShift(c, T, shift_div=4, init='random', impl='conv1d')
    literal.load_state_dict(summed.state_dict())
    x = torch.randn(n * T, c, h, w).contiguous(memory_format=layout)
    grad = torch.randn(n * T, c, h, w).contiguous(memory_format=layout)
    results = []
    for module in (summed, literal):
        xi = x.clone().requires_grad_(True)
        out = module(xi)
        out.backward(grad)
        results.append((out, xi.grad, module.weight.grad))
    reference = eq13_reference(summed.weight.detach(), x)
    for out, grad_x, grad_w in results:
        torch.testing.assert_close(out, reference, rtol=1e-5, atol=1e-5)
    for got, expected in zip(results[0], results[1]):
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    # The kernel's gradient, by the chain rule on Eq. 13's sum.
    clips, g = x.view(n, T, c, -1), grad.view(n, T, c, -1)
    expected_w = torch.stack([(g[:, 1:] * clips[:, :-1]).sum((0, 1, 3)),
                              (g * clips).sum((0, 1, 3)),
                              (g[:, :-1] * clips[:, 1:]).sum((0, 1, 3))], 1)
    torch.testing.assert_close(results[0][2], expected_w, rtol=1e-4, atol=1e-4)


def test_hand_written_backward_passes_gradcheck() -> None:
    # NCHW frames view [N, T, C, H*W]
    x = torch.randn(2, T, 3, 5, dtype=torch.double, requires_grad=True)
    weight = torch.randn(3, 3, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(_ShiftFunction.apply, (x, weight, None))
    # channels_last frames view [N, T, H, W*C], W = 2
    rows = torch.randn(2, T, 3, 2 * 3, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(_ShiftFunction.apply, (rows, weight, 2))


def test_inference_path_equals_training_path() -> None:
    module = AdaptiveShift(8, T, shift_div=4, init='random')
    x = torch.randn(2 * T, 8, 3, 3)
    with torch.no_grad():
        inference = module(x)
    training = module(x.requires_grad_(True))
    assert training.requires_grad
    torch.testing.assert_close(inference, training.detach())


def test_identity_init_is_a_no_op_and_frozen_gets_no_gradient() -> None:
    x = torch.randn(2 * T, 8, 3, 3)
    assert torch.equal(AdaptiveShift(8, T, init='identity')(x), x)
    frozen = AdaptiveShift(8, T, frozen=True)
    assert not frozen.weight.requires_grad
    assert 'weight' in frozen.state_dict()
    xg = x.clone().requires_grad_(True)
    frozen(xg).sum().backward()
    assert frozen.weight.grad is None and xg.grad is not None


@pytest.mark.parametrize('kwargs,match', [
    (dict(channels=4, shift_div=8), 'no channel would be shifted'),
    (dict(channels=16, init='zeros'), 'init must be one of'),
    (dict(channels=16, impl='cuda'), 'impl must be one of'),
])
def test_shift_rejects_bad_arguments(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        AdaptiveShift(num_segments=T, **kwargs)


@pytest.mark.parametrize('impl', ['sum', 'conv1d'])
def test_batch_not_multiple_of_segments_raises(impl: str) -> None:
    with pytest.raises(
            ValueError,
            match=r'batch of 6 frames is not a '
            r'multiple of num_segments=4'):
        AdaptiveShift(16, T, impl=impl)(torch.randn(6, 16, 4, 4))


@pytest.mark.parametrize('impl', ['sum', 'conv1d'])
def test_shift_accepts_a_non_contiguous_channel_slice(impl: str) -> None:
    module = AdaptiveShift(8, T, shift_div=4, init='random', impl=impl)
    x = torch.randn(2 * T, 16, 3, 3)[:, 4:12]  # as torch.split gives
    assert not x.is_contiguous()
    torch.testing.assert_close(
        module(x), module(x.contiguous()), rtol=0, atol=0)
    torch.testing.assert_close(
        module(x), eq13_reference(module.weight.detach(), x))
