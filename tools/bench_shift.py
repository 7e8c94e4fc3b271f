"""Times two implementations of the adaptive shift (Eq. 13) on CPU.

* ``weighted sum`` (what ``AdaptiveShift`` uses): out = K0*x[t-1] + K1*x[t]
  + K2*x[t+1] on a [N, T, C, H*W] view, no permute;
* ``depthwise conv1d``: Eq. 13 literally, permute to [N*H*W, C, T], a
  grouped Conv1d, permute back.

Both are tested equal in tests/models (forward) ; this prints forward and
forward+backward medians for the slice shapes of Res2Net-IMG-50 at 224 px,
8 frames.

Usage: python tools/bench_shift.py [--threads 2] [--repeats 20]
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from img_mmaction.models import AdaptiveShift

# (channels of one CLIM slice, spatial side) per stage of Res2Net-50 26w_4s.
SHAPES = ((26, 56), (52, 28), (104, 14), (208, 7))


def conv1d_shift(x: torch.Tensor, weight: torch.Tensor,
                 num_segments: int) -> torch.Tensor:
    """Eq. 13: Reshape to [N*H*W, C, T], depthwise conv, reshape back."""
    nt, c, h, w = x.shape
    n = nt // num_segments
    # [N*T, C, H, W] -> [N, T, C, H, W] -> [N, H, W, C, T] -> [N*H*W, C, T]
    x_rp = x.view(n, num_segments, c, h, w).permute(0, 3, 4, 2, 1).reshape(
        -1, c, num_segments)
    x_ss = F.conv1d(x_rp, weight.unsqueeze(1), padding=1, groups=c)
    # [N*H*W, C, T] -> [N, H, W, C, T] -> [N, T, C, H, W] -> [N*T, C, H, W]
    return x_ss.view(n, h, w, c, num_segments).permute(0, 4, 3, 1,
                                                       2).reshape(nt, c, h, w)


def median_time(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print('| slice (C x H x W, 8 frames) | sum fwd (ms) | conv1d fwd (ms) '
          '| sum fwd+bwd (ms) | conv1d fwd+bwd (ms) |')
    print('|---|---|---|---|---|')
    for channels, side in SHAPES:
        module = AdaptiveShift(channels, 8, shift_div=8, init='random')
        x = torch.randn(8, channels, side, side, requires_grad=True)
        torch.testing.assert_close(module(x),
                                   conv1d_shift(x, module.weight, 8),
                                   rtol=1e-5, atol=1e-5)

        def fwd_sum():
            with torch.no_grad():
                module(x)

        def fwd_conv():
            with torch.no_grad():
                conv1d_shift(x, module.weight, 8)

        def train_sum():
            module(x).sum().backward()

        def train_conv():
            conv1d_shift(x, module.weight, 8).sum().backward()

        row = [median_time(f, args.repeats) * 1e3
               for f in (fwd_sum, fwd_conv, train_sum, train_conv)]
        print(f'| {channels} x {side} x {side} | ' +
              ' | '.join(f'{v:.3f}' for v in row) + ' |')


if __name__ == '__main__':
    main()
