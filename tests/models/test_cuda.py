"""The models on CUDA: equal to the CPU, under autocast, compiled.

Skipped without a GPU (``IMG_CUDA_DRY_RUN=1`` runs this code on the CPU,
a check of the tests only). Each module is built on the CPU, copied to the
GPU, and both run the same input; TF32 is off, so outputs and gradients
agree to float32 rounding. Autocast runs compare with float32 on the GPU;
``torch.compile`` uses its default backend (inductor).
"""
import copy
from typing import Callable, Dict, Tuple

import pytest
import torch
import torch.nn as nn

from img_mmaction.models import (CLIM, CMEM, AdaptiveShift, Res2NetIMG,
                                 ResNetIMG)
from img_mmaction.models.temporal.adaptive_shift import _ShiftFunction
from img_mmaction.testing.devices import cuda_test_device, cuda_tests_can_run
from .utils import eq13_reference, randomize_

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not cuda_tests_can_run(), reason='needs a CUDA device'),
    pytest.mark.usefixtures('full_float32')
]
DEVICE = cuda_test_device()
T = 4
LAYOUTS = [torch.contiguous_format, torch.channels_last]
LAYOUT_IDS = ['nchw', 'channels_last']
RANDOM_SHIFT = dict(type='AdaptiveShift', init='random', shift_div=2)
#: Relative error (norm of the difference / norm) of CPU vs GPU in float32.
FP32_TOL = 1e-4
#: The same for a whole backbone's gradients (longer sums, more rounding).
FP32_BACKBONE_TOL = 1e-3


def relative_error(actual: torch.Tensor, expected: torch.Tensor) -> float:
    """``|actual - expected| / |expected|`` (Frobenius norms, float64)."""
    actual = actual.detach().double().cpu()
    expected = expected.detach().double().cpu()
    return float((actual - expected).norm() / expected.norm().clamp_min(1e-30))


def forward_backward(
    module: nn.Module,
    x: torch.Tensor,
    dtype: torch.dtype = torch.float32
) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
    """Output, and gradients of ``sum(out * g)`` for a fixed random ``g``.

    Args:
        module: The module, on the device of ``x``.
        x: Its input (a leaf copy is differentiated).
        dtype: float32, or float16 / bfloat16 for autocast.

    Returns:
        The output and ``{'input': ..., parameter name: ...}`` gradients.
    """
    x = x.detach().clone().requires_grad_(True)
    with torch.autocast(
            x.device.type, dtype=dtype, enabled=dtype != torch.float32):
        out = module(x)
    weights = torch.randn(
        out.shape, generator=torch.Generator().manual_seed(1))
    (out.float() * weights.to(out.device)).sum().backward()
    grads = {'input': x.grad}
    grads.update({
        name: param.grad
        for name, param in module.named_parameters() if param.grad is not None
    })
    return out, grads


def assert_device_equals_cpu(module: nn.Module,
                             x: torch.Tensor,
                             grad_tol: float = FP32_TOL) -> torch.Tensor:
    """Runs ``module`` on the CPU and a copy on DEVICE; compares all.

    Args:
        module: The module, on the CPU.
        x: Its input, on the CPU, in the layout to test.
        grad_tol: Relative tolerance of the gradients.

    Returns:
        The output on DEVICE.
    """
    on_device = copy.deepcopy(module).to(DEVICE)
    expected, expected_grads = forward_backward(module, x)
    actual, actual_grads = forward_backward(on_device, x.to(DEVICE))
    assert actual.device.type == DEVICE.type
    assert relative_error(actual, expected) < FP32_TOL
    assert actual_grads.keys() == expected_grads.keys()
    for name, grad in expected_grads.items():
        assert relative_error(actual_grads[name], grad) < grad_tol, name
    return actual


def tiny_res2net(**kwargs) -> Res2NetIMG:
    """Res2NetIMG with one block per stage, 16 base channels (slices of 6)."""
    return Res2NetIMG(
        num_segments=T,
        base_channels=16,
        stem_channels=16,
        stage_blocks=(1, 1, 1, 1),
        cmem_cfg=dict(reduction=4),
        temporal_cfg=RANDOM_SHIFT,
        **kwargs)


def resnet_img() -> ResNetIMG:
    """ResNetIMG-50 (CMEM and the adaptive shift in every block)."""
    return ResNetIMG(
        depth=50,
        num_segments=T,
        pretrained=None,
        cmem_cfg=dict(reduction=4),
        temporal_cfg=dict(type='AdaptiveShift', init='random'))


# -- the device against the CPU, float32 ----------------------------------
def test_cmem_equals_cpu() -> None:
    cmem = randomize_(CMEM(16, T, reduction=4))
    assert_device_equals_cpu(cmem, torch.randn(2 * T, 16, 8, 8))


@pytest.mark.parametrize('layout', LAYOUTS, ids=LAYOUT_IDS)
@pytest.mark.parametrize('impl', ['sum', 'conv1d'])
def test_shift_equals_cpu_and_eq13(impl: str,
                                   layout: torch.memory_format) -> None:
    shift = AdaptiveShift(12, T, init='random', impl=impl)
    x = torch.randn(2 * T, 12, 5, 6).contiguous(memory_format=layout)
    out = assert_device_equals_cpu(shift, x)
    if impl == 'sum':  # the weighted sum keeps the input's layout
        assert out.is_contiguous(memory_format=layout)
    expected = eq13_reference(shift.weight.to(DEVICE), x.to(DEVICE), T)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('row_width', [None, 3], ids=['nchw', 'rows'])
def test_hand_written_backward_passes_gradcheck(row_width) -> None:
    # frames [N, T, A, L]: A = C (NCHW view) or H (rows of W*C)
    frames = torch.randn(
        2, T, 4, 6, dtype=torch.float64, device=DEVICE, requires_grad=True)
    channels = 4 if row_width is None else 6 // row_width
    weight = torch.randn(
        channels, 3, dtype=torch.float64, device=DEVICE, requires_grad=True)
    assert torch.autograd.gradcheck(_ShiftFunction.apply,
                                    (frames, weight, row_width))


@pytest.mark.parametrize('impl', ['sum', 'conv1d'])
@pytest.mark.parametrize('first_block', [False, True])
def test_clim_equals_cpu(first_block: bool, impl: str) -> None:
    clim = randomize_(
        CLIM(
            24,
            T,
            stride=2 if first_block else 1,
            first_block=first_block,
            temporal_cfg=dict(RANDOM_SHIFT, impl=impl))).train()
    assert_device_equals_cpu(clim, torch.randn(2 * T, 24, 8, 8))


@pytest.mark.parametrize(
    'channels_last', [True, False], ids=['channels_last', 'nchw'])
def test_res2net_img_equals_cpu(channels_last: bool) -> None:
    model = tiny_res2net(channels_last=channels_last).train()
    assert_device_equals_cpu(
        model, torch.randn(2 * T, 3, 32, 32), grad_tol=FP32_BACKBONE_TOL)


def test_resnet_img_equals_cpu() -> None:
    model = resnet_img()
    model.train()  # mmaction's ResNet.train() returns None
    assert_device_equals_cpu(
        model, torch.randn(T, 3, 32, 32), grad_tol=FP32_BACKBONE_TOL)


# -- autocast -------------------------------------------------------------
#: Each module of IMG and both backbones, built on the CPU with PyTorch's
#: initialisation (randomize_'s large weights and BN statistics would test
#: bfloat16's 8-bit mantissa on sums of large terms, not the modules).
AUTOCAST_MODULES: Dict[str, Callable[[], nn.Module]] = {
    'cmem': lambda: CMEM(16, T, reduction=4),
    'shift_sum': lambda: AdaptiveShift(16, T, init='random'),
    'shift_conv1d': lambda: AdaptiveShift(16, T, init='random', impl='conv1d'),
    'clim': lambda: CLIM(16, T, temporal_cfg=RANDOM_SHIFT),
    'res2net_img': tiny_res2net,
    'resnet_img': resnet_img,
}

#: Relative error of all parameter gradients together under autocast, vs
#: float32: bfloat16 keeps 8 mantissa bits, and a whole (randomly
#: initialised, unnormalised) backbone sums its rounding over every layer;
#: a wrong gradient is off by a relative error of order 1.
AUTOCAST_GRAD_TOL = {
    (torch.float16, False): 0.1,
    (torch.bfloat16, False): 0.1,
    (torch.float16, True): 0.1,
    (torch.bfloat16, True): 0.3,
}


def parameter_gradients(grads: Dict[str, torch.Tensor]) -> torch.Tensor:
    """All parameter gradients as one float64 vector (input excluded)."""
    return torch.cat([
        grad.detach().double().flatten().cpu() for name, grad in grads.items()
        if name != 'input'
    ])


@pytest.mark.parametrize(
    'dtype', [torch.float16, torch.bfloat16], ids=['fp16', 'bf16'])
@pytest.mark.parametrize('name', list(AUTOCAST_MODULES))
def test_autocast_is_finite_and_close_to_float32(name: str,
                                                 dtype: torch.dtype) -> None:
    module = AUTOCAST_MODULES[name]().to(DEVICE)
    module.eval()  # the same BN statistics for both runs
    backbone = name.endswith('_img')
    x = torch.randn(2 * T, 3 if backbone else 16, 32, 32, device=DEVICE)
    expected, expected_grads = forward_backward(module, x)
    module.zero_grad(set_to_none=True)
    low, low_grads = forward_backward(module, x, dtype)
    assert torch.isfinite(low).all()
    assert relative_error(low, expected) < 0.05
    assert low_grads.keys() == expected_grads.keys()
    for key, grad in low_grads.items():
        assert torch.isfinite(grad).all(), key
    tolerance = AUTOCAST_GRAD_TOL[dtype, backbone]
    if not backbone:  # a backbone's input gradient: finite is enough
        assert relative_error(low_grads['input'],
                              expected_grads['input']) < tolerance
    if len(expected_grads) > 1:
        assert relative_error(
            parameter_gradients(low_grads),
            parameter_gradients(expected_grads)) < tolerance


def test_cmem_keeps_float32_statistics_under_fp16_autocast() -> None:
    """Squared norms over H*W that overflow float16 stay finite.

    The input is scaled so that CMEM's transformed features fit float16
    but their squared norms (Eq. 5) do not: statistics computed in float16
    would be inf and the cosine NaN or 0.
    """
    cmem = randomize_(CMEM(16, T, reduction=4)).to(DEVICE)
    # float16 input, as after a conv + BN + ReLU under autocast
    x = (40 * torch.randn(2 * T, 16, 16, 16, device=DEVICE)).half()
    with torch.no_grad(), torch.autocast(DEVICE.type, dtype=torch.float16):
        y = cmem.conv_trans(cmem.conv_prev(x))
        assert y.dtype == torch.float16 and torch.isfinite(y).all()
        assert torch.isinf(y.pow(2).sum((2, 3))).any()  # the precondition
        low = cmem.motion_feature(x)
    with torch.no_grad():
        expected = cmem.motion_feature(x.float())
    assert low.dtype == torch.float16 and torch.isfinite(low).all()
    assert relative_error(low, expected) < 1e-2


# -- torch.compile --------------------------------------------------------
def assert_compiled_equals_eager(module: nn.Module, x: torch.Tensor) -> None:
    """Output and gradients of ``torch.compile(module)`` equal eager's."""
    expected, expected_grads = forward_backward(module, x)
    module.zero_grad(set_to_none=True)
    actual, actual_grads = forward_backward(torch.compile(module), x)
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-5)
    for name, grad in expected_grads.items():
        # the compiled module's parameter names carry `_orig_mod.`
        other = actual_grads.get(name, actual_grads.get(f'_orig_mod.{name}'))
        torch.testing.assert_close(other, grad, rtol=1e-4, atol=1e-5, msg=name)


@pytest.mark.parametrize('layout', LAYOUTS, ids=LAYOUT_IDS)
def test_compiled_shift_equals_eager(layout: torch.memory_format) -> None:
    shift = AdaptiveShift(12, T, init='random').to(DEVICE)
    x = torch.randn(
        2 * T, 12, 5, 6, device=DEVICE).contiguous(memory_format=layout)
    assert_compiled_equals_eager(shift, x)


def test_compiled_cmem_equals_eager() -> None:
    cmem = randomize_(CMEM(16, T, reduction=4)).to(DEVICE)
    assert_compiled_equals_eager(cmem,
                                 torch.randn(2 * T, 16, 8, 8, device=DEVICE))


def test_compiled_res2net_img_equals_eager() -> None:
    model = tiny_res2net().to(DEVICE).eval()
    x = torch.randn(2 * T, 3, 32, 32, device=DEVICE)
    with torch.no_grad():
        expected = model(x)
        actual = torch.compile(model)(x)
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-5)
