"""Adaptive shift: TSM's shift as a learnable temporal kernel (Sec. 3.2.1)."""
from __future__ import annotations

import torch
import torch.nn as nn
from mmaction.registry import MODELS

from ._segments import check_frames

SHIFT_INITS = ('tsm', 'random', 'identity')


def tsm_kernel(channels: int, shift_div: int) -> torch.Tensor:
    """Returns the kernel K of Eq. 13, of shape [C, 3].

    Column k multiplies frame t-1, t, t+1 for k = 0, 1, 2. The first
    ``C // shift_div`` channels take frame t+1 (shift left, Eq. 10), the next
    ``C // shift_div`` take frame t-1 (shift right, Eq. 11), the rest stay
    (Eq. 12): exactly MMAction2's ``TemporalShift`` and TSM's fold.
    """
    fold = channels // shift_div
    kernel = torch.zeros(channels, 3)
    kernel[:fold, 2] = 1.0
    kernel[fold:2 * fold, 0] = 1.0
    kernel[2 * fold:, 1] = 1.0
    return kernel


@MODELS.register_module()
class AdaptiveShift(nn.Module):
    """Learnable per-channel temporal kernel of size 3 (Eq. 13, Fig. 4).

    Eq. 13 writes TSM's shift as a depthwise convolution over time of the
    input reshaped to [N*H*W, C, T]. Here the same convolution is computed
    as a weighted sum of the frame-shifted input, which needs no permute of
    the feature map: ``out[t] = K[:, 0] x[t-1] + K[:, 1] x[t] + K[:, 2]
    x[t+1]``, with zeros beyond the clip's ends. The two are equal (tested).

    Args:
        channels: Channels C of the input.
        num_segments: Frames per clip, T.
        shift_div: 1 / fraction of channels shifted each way by the TSM
            initialisation. Defaults to 8.
        init: ``'tsm'`` (Eq. 13, equals TSM's shift exactly), ``'random'``
            (the paper's s-shift-random) or ``'identity'`` (no temporal
            mixing). Defaults to ``'tsm'``.
        frozen: Keep the kernel fixed (the paper's s-shift-freeze when
            ``init='tsm'``). Defaults to False.

    Shapes:
        Input and output: [N*T, C, H, W].
    """

    def __init__(self, channels: int, num_segments: int, shift_div: int = 8,
                 init: str = 'tsm', frozen: bool = False) -> None:
        super().__init__()
        if init not in SHIFT_INITS:
            raise ValueError(f'AdaptiveShift init must be one of '
                             f'{SHIFT_INITS}, got {init!r}')
        if shift_div < 1 or channels // shift_div == 0:
            raise ValueError(
                f'AdaptiveShift: channels={channels} // shift_div={shift_div}'
                ' is 0, so no channel would be shifted; use more channels or'
                ' a smaller shift_div.')
        self.channels = channels
        self.num_segments = num_segments
        self.shift_div = shift_div
        self.init = init
        self.frozen = frozen
        # [C, 3]: weights of frames t-1, t, t+1 per channel.
        self.weight = nn.Parameter(self._initial_kernel(),
                                   requires_grad=not frozen)

    def _initial_kernel(self) -> torch.Tensor:
        if self.init == 'tsm':
            return tsm_kernel(self.channels, self.shift_div)
        kernel = torch.zeros(self.channels, 3)
        if self.init == 'identity':
            kernel[:, 1] = 1.0
        else:  # PyTorch's default init of a depthwise Conv1d, fan_in = 3
            bound = 1.0 / 3 ** 0.5
            kernel.uniform_(-bound, bound)
        return kernel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Mixes each channel over frames t-1, t, t+1 of its own clip.

        Args:
            x: Input of shape [N*T, C, H, W].

        Returns:
            Output of the same shape.
        """
        num_frames, channels, height, width = x.shape
        num_clips = check_frames(num_frames, self.num_segments,
                                 'AdaptiveShift')
        # [N*T, C, H, W] -> [N, T, C, H*W]
        x = x.view(num_clips, self.num_segments, channels, height * width)
        # [C, 3] -> three [C, 1] columns broadcast over [N, T, C, H*W]
        previous, current, following = self.weight.unsqueeze(-1).unbind(1)
        out = x * current
        out[:, 1:] += x[:, :-1] * previous
        out[:, :-1] += x[:, 1:] * following
        # [N, T, C, H*W] -> [N*T, C, H, W]
        return out.view(num_frames, channels, height, width)

    def extra_repr(self) -> str:
        return (f'channels={self.channels}, num_segments={self.num_segments},'
                f' shift_div={self.shift_div}, init={self.init!r}, '
                f'frozen={self.frozen}')
