"""AdaptiveShift (Eq. 13) against TSM's shift and the equation."""
from typing import Tuple

import pytest
import torch
from mmaction.models.backbones.resnet_tsm import TemporalShift

from img_mmaction.models import AdaptiveShift
from img_mmaction.models.temporal.adaptive_shift import (_ShiftFunction,
                                                         causal_tsm_kernel,
                                                         tsm_kernel)
from .utils import eq13_reference

T = 4

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
def outputs_and_gradients(module: AdaptiveShift, x: torch.Tensor,
                          grad: torch.Tensor
                          ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``module(x)``, and the gradients of x and of the kernel for ``grad``.
    """
    leaf = x.clone().requires_grad_(True)
    out = module(leaf)
    out.backward(grad)
    return out, leaf.grad, module.weight.grad


@pytest.mark.parametrize('layout', LAYOUTS, ids=['nchw', 'channels_last'])
def test_both_implementations_equal_eq13_in_value_and_gradient(
        layout: torch.memory_format) -> None:
    n, c, h, w = 3, 10, 4, 5
    summed = AdaptiveShift(c, T, shift_div=4, init='random', impl='sum')
    literal = AdaptiveShift(c, T, shift_div=4, init='random', impl='conv1d')
    literal.load_state_dict(summed.state_dict())
    x = torch.randn(n * T, c, h, w).contiguous(memory_format=layout)
    grad = torch.randn(n * T, c, h, w).contiguous(memory_format=layout)
    results = [outputs_and_gradients(m, x, grad) for m in (summed, literal)]
    reference = eq13_reference(summed.weight.detach(), x, T)
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


@pytest.mark.parametrize('taps', [3, 2], ids=['eq13', 'causal'])
def test_hand_written_backward_passes_gradcheck(taps: int) -> None:
    """The [C, 3] kernel of Eq. 13 and the causal [C, 2] one (ours)."""
    weight = torch.randn(3, taps, dtype=torch.double, requires_grad=True)
    # NCHW frames view [N, T, C, H*W]
    x = torch.randn(2, T, 3, 5, dtype=torch.double, requires_grad=True)
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
        module(x), eq13_reference(module.weight.detach(), x, T))


# -- causal form (OURS, docs/online.md) --------------------------------
def causal_reference(weight: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The causal shift frame by frame: out[t] = K[:, 0] x[t-1] + K[:, 1] x[t].
    """
    clips = x.view(-1, T, *x.shape[1:])
    out = torch.zeros_like(clips)
    for t in range(T):
        out[:, t] = weight[:, 1, None, None] * clips[:, t]
        if t > 0:
            out[:, t] += weight[:, 0, None, None] * clips[:, t - 1]
    return out.view_as(x)


def tsm_online_shift(x: torch.Tensor, shift_div: int) -> torch.Tensor:
    """TSM's online shift (mit-han-lab/temporal-shift-module, online_demo):
    the first C // shift_div channels of frame t are those of frame t-1
    (zeros for the first frame), the others stay."""
    clips = x.view(-1, T, *x.shape[1:])
    fold = x.shape[1] // shift_div
    out = clips.clone()
    out[:, 0, :fold] = 0
    out[:, 1:, :fold] = clips[:, :-1, :fold]
    return out.view_as(x)


def test_shift_is_not_causal_by_default() -> None:
    shift = AdaptiveShift(16, T)
    assert shift.causal is False and shift.weight.shape == (16, 3)


def test_causal_tsm_kernel() -> None:
    kernel = causal_tsm_kernel(16, 8)
    assert kernel[:2].tolist() == [[1, 0]] * 2  # frame t-1
    assert kernel[2:].tolist() == [[0, 1]] * 14  # not shifted
    shift = AdaptiveShift(16, T, init='tsm', causal=True)
    assert torch.equal(shift.weight, kernel)
    assert AdaptiveShift(
        16, T, init='identity', causal=True).weight.tolist() == [[0, 1]] * 16
    random = AdaptiveShift(16, T, init='random', causal=True).weight
    assert random.shape == (16, 2) and random.abs().max() <= 2**-0.5


@pytest.mark.parametrize('layout', LAYOUTS, ids=['nchw', 'channels_last'])
@pytest.mark.parametrize('impl', ['sum', 'conv1d'])
def test_causal_tsm_init_equals_tsm_online_shift(impl: str,
                                                 layout: torch.memory_format
                                                 ) -> None:
    x = torch.randint(-8, 9, (2 * T, 16, 5, 6)).float()
    shift = AdaptiveShift(16, T, shift_div=4, causal=True, impl=impl)
    out = shift(x.contiguous(memory_format=layout))
    assert torch.equal(out, tsm_online_shift(x, 4))


@pytest.mark.parametrize('layout', LAYOUTS, ids=['nchw', 'channels_last'])
def test_causal_implementations_equal_literal_in_value_and_gradient(
        layout: torch.memory_format) -> None:
    n, c, h, w = 3, 10, 4, 5
    summed = AdaptiveShift(c, T, init='random', impl='sum', causal=True)
    literal = AdaptiveShift(c, T, init='random', impl='conv1d', causal=True)
    literal.load_state_dict(summed.state_dict())
    x = torch.randn(
        n * T, c, h, w, dtype=torch.double).contiguous(memory_format=layout)
    grad = torch.randn(
        n * T, c, h, w, dtype=torch.double).contiguous(memory_format=layout)
    summed.double()
    literal.double()
    results = [outputs_and_gradients(m, x, grad) for m in (summed, literal)]
    weight = summed.weight.detach()
    for out, grad_x, grad_w in results:
        torch.testing.assert_close(out, causal_reference(weight, x))
        # The input gradient, by the chain rule on the causal sum.
        g = grad.view(n, T, c, h, w)
        expected_x = weight[:, 1, None, None] * g
        expected_x[:, :-1] += weight[:, 0, None, None] * g[:, 1:]
        torch.testing.assert_close(grad_x, expected_x.view_as(x))
        clips = x.view(n, T, c, h, w)
        expected_w = torch.stack([(g[:, 1:] * clips[:, :-1]).sum((0, 1, 3, 4)),
                                  (g * clips).sum((0, 1, 3, 4))], 1)
        torch.testing.assert_close(grad_w, expected_w)


def test_causal_shift_frame_t_never_sees_later_frames() -> None:
    shift = AdaptiveShift(8, T, init='random', causal=True)
    x = torch.randn(2, T, 8, 3, 3, requires_grad=True)
    out = shift(x.view(2 * T, 8, 3, 3)).view(2, T, 8, 3, 3)
    for t in range(T):
        grad, = torch.autograd.grad(out[:, t].sum(), x, retain_graph=True)
        assert torch.count_nonzero(grad[:, t + 1:]) == 0
        assert t == 0 or torch.count_nonzero(grad[:, t - 1]) > 0


@pytest.mark.parametrize('layout', LAYOUTS, ids=['nchw', 'channels_last'])
def test_causal_shift_stream_step_equals_forward(layout: torch.memory_format
                                                 ) -> None:
    shift = AdaptiveShift(8, T, init='random', causal=True)
    x = torch.randn(3, T, 8, 4, 5)
    expected = shift(x.view(3 * T, 8, 4, 5).contiguous(
        memory_format=layout)).view(3, T, 8, 4, 5)
    cache = None
    for t in range(T):
        frame = x[:, t].contiguous(memory_format=layout)
        out, cache = shift.stream_step(frame, cache)
        assert out.is_contiguous(memory_format=layout)
        assert torch.equal(out, expected[:, t])
    fresh = torch.tensor([False, True, False])
    out, _ = shift.stream_step(x[:, 0].contiguous(), cache, fresh)
    torch.testing.assert_close(out[1], expected[1, 0], rtol=0, atol=0)
    assert not torch.allclose(out[0], expected[0, 0])


def test_shift_stream_step_errors() -> None:
    with pytest.raises(RuntimeError, match='stream_step needs causal'):
        AdaptiveShift(8, T).stream_step(torch.randn(1, 8, 2, 2), None)
    shift = AdaptiveShift(8, T, causal=True)
    with pytest.raises(ValueError, match=r'cache of shape \(2, 8, 2, 2\)'):
        shift.stream_step(torch.randn(1, 8, 2, 2), torch.randn(2, 8, 2, 2))
