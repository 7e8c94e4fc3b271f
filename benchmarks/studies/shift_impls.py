"""Times the two implementations of the adaptive shift (Eq. 13) on CPU.

* ``impl='sum'`` (the default of ``AdaptiveShift``): out = K0*x[t-1] +
  K1*x[t] + K2*x[t+1] on a [N, T, C, H*W] view, no permute, with a
  hand-written backward;
* ``impl='conv1d'``: Eq. 13 literally, permute to [N*H*W, C, T], a
  depthwise Conv1d, permute back.

For the CLIM slice shapes of Res2Net-IMG-50 at 224 px (one clip of
``--segments`` frames) it first checks that both give the same output and
the same gradients (input and kernel), then prints the median forward and
forward+backward times, alternating the implementations in every
repetition, for NCHW and channels_last inputs.

Usage::

    python -m benchmarks.studies.shift_impls [--threads 2] [--repeats 30]
"""
from __future__ import annotations
import argparse
import functools
import statistics
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch

from img_mmaction.models import AdaptiveShift

#: (channels of one CLIM slice, spatial side) per stage of Res2Net-50 26w_4s.
SHAPES: Tuple[Tuple[int, int], ...] = ((26, 56), (52, 28), (104, 14), (208, 7))
IMPLS = ('sum', 'conv1d')


def shift_pair(channels: int, num_segments: int) -> Dict[str, AdaptiveShift]:
    """Both implementations with the same random kernel.

    Args:
        channels: Channels of the slice.
        num_segments: Frames per clip.

    Returns:
        ``{'sum': module, 'conv1d': module}``.
    """
    modules = {
        impl: AdaptiveShift(channels, num_segments, init='random', impl=impl)
        for impl in IMPLS
    }
    modules['conv1d'].load_state_dict(modules['sum'].state_dict())
    return modules


def check_equal(modules: Dict[str, AdaptiveShift],
                x: torch.Tensor,
                tol: float = 1e-10) -> None:
    """Asserts equal outputs and gradients (input and kernel), in float64.

    In float64 the two summation orders agree to ~1e-13, so a wrong tap
    or a wrong end of the clip cannot hide inside the tolerance (in float32
    the kernel gradient, a sum over N*T*H*W products, differs by ~1e-4).

    Args:
        modules: The output of :func:`shift_pair` (left in float32).
        x: Input of shape [N*T, C, H, W].
        tol: Absolute and relative tolerance. Defaults to 1e-10.

    Raises:
        AssertionError: The implementations differ.
    """
    x = x.double()  # keeps the layout
    grad_out = torch.randn_like(x)
    results = {}
    for impl, original in modules.items():
        module = AdaptiveShift(
            original.channels, original.num_segments, init='random',
            impl=impl).double()
        module.load_state_dict(original.state_dict())
        leaf = x.detach().clone().requires_grad_(True)
        out = module(leaf)
        out.backward(grad_out)
        results[impl] = (out.detach(), leaf.grad, module.weight.grad)
    for reference, other in zip(results['sum'], results['conv1d']):
        torch.testing.assert_close(other, reference, rtol=tol, atol=tol)


def median_ms(fns: Dict[str, Callable[[], None]],
              repeats: int) -> Dict[str, float]:
    """Median time of each function in milliseconds, alternating them.

    Args:
        fns: Named functions to time.
        repeats: Timed calls of each, after one warm-up call.

    Returns:
        ``{name: median milliseconds}``.
    """
    times: Dict[str, List[float]] = {name: [] for name in fns}
    for fn in fns.values():
        fn()
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) * 1e3 for name, t in times.items()}


def forward(module: AdaptiveShift, x: torch.Tensor) -> None:
    """One forward of ``module`` on ``x``, without gradients."""
    with torch.no_grad():
        module(x)


def forward_backward(module: AdaptiveShift, x: torch.Tensor) -> None:
    """One forward and backward; the gradients are then dropped.

    Args:
        module: The shift.
        x: Its input, a leaf that requires gradients.
    """
    module(x).sum().backward()
    x.grad = module.weight.grad = None


def compare(channels: int,
            side: int,
            num_segments: int = 8,
            repeats: int = 30,
            layout: torch.memory_format = torch.contiguous_format
            ) -> Dict[str, float]:
    """Checks and times both implementations on one slice shape.

    Args:
        channels: Channels of the slice.
        side: Height and width of the slice.
        num_segments: Frames (one clip). Defaults to 8.
        repeats: Timed calls of each. Defaults to 30.
        layout: Memory format of the input (Res2NetIMG runs in
            channels_last by default). Defaults to NCHW.

    Returns:
        Milliseconds for ``sum fwd``, ``conv1d fwd``, ``sum fwd+bwd``,
        ``conv1d fwd+bwd``.
    """
    modules = shift_pair(channels, num_segments)
    x = torch.randn(num_segments, channels, side,
                    side).contiguous(memory_format=layout)
    check_equal(modules, x)
    x_grad = x.clone().requires_grad_(True)
    fns: Dict[str, Callable[[], None]] = {
        f'{impl} fwd': functools.partial(forward, module, x)
        for impl, module in modules.items()
    }
    fns.update({
        f'{impl} fwd+bwd':
        functools.partial(forward_backward, module, x_grad)
        for impl, module in modules.items()
    })
    return median_ms(fns, repeats)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Checks and times both implementations; prints the table.

    Args:
        argv: Command-line arguments. Defaults to None (``sys.argv``).

    Raises:
        ValueError: A count is below 1.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--segments', type=int, default=8)
    parser.add_argument('--repeats', type=int, default=30)
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.threads < 1 or args.segments < 1:
        raise ValueError('--threads, --segments and --repeats must be >= 1')
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    columns = ('sum fwd', 'conv1d fwd', 'sum fwd+bwd', 'conv1d fwd+bwd')
    print(f'| CLIM slice (C x H x W, {args.segments} frames) | layout | ' +
          ' | '.join(f'{c} (ms)' for c in columns) + ' |')
    print('|---' * (len(columns) + 2) + '|')
    layouts = {
        'NCHW': torch.contiguous_format,
        'channels_last': torch.channels_last
    }
    for channels, side in SHAPES:
        for layout_name, layout in layouts.items():
            row = compare(channels, side, args.segments, args.repeats, layout)
            print(f'| {channels} x {side} x {side} | {layout_name} | ' +
                  ' | '.join(f'{row[c]:.3f}' for c in columns) + ' |')


if __name__ == '__main__':
    main()
