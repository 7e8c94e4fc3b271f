"""A plain 1D temporal convolution: the "(2+1)D" reference of Tables 3-4."""
from __future__ import annotations

import torch
import torch.nn as nn
from mmaction.registry import MODELS

from ..checks import check_frames


@MODELS.register_module()
class TemporalConv1d(nn.Module):
    """Dense convolution over time, kernel 3, shared over positions.

    Table 4's structure (a) and Table 3's "(2+1)D" rows put a plain 1D
    temporal convolution where the adaptive shift goes: unlike the shift's
    per-channel (depthwise) kernel, every output channel mixes all input
    channels of frames t-1, t and t+1.

    Args:
        channels: Channels C (in and out).
        num_segments: Frames per clip, T.
        init: ``'identity'`` (starts as a no-op, keeps pretrained 2D
            features) or ``'random'`` (PyTorch's default). Defaults to
            ``'identity'``.

    Shapes:
        Input and output: [N*T, C, H, W].
    """

    def __init__(self,
                 channels: int,
                 num_segments: int,
                 init: str = 'identity') -> None:
        super().__init__()
        if init not in ('identity', 'random'):
            raise ValueError("TemporalConv1d: init must be 'identity' or "
                             f"'random', got {init!r}")
        if channels < 1 or num_segments < 1:
            raise ValueError('TemporalConv1d: channels and num_segments must'
                             f' be >= 1, got {channels}, {num_segments}')
        self.channels = channels
        self.num_segments = num_segments
        # A Conv1d over T applied at every (h, w): a (3, 1, 1) Conv3d on the
        # [N, C, T, H, W] view, weight [C_out, C_in, 3, 1, 1].
        self.conv = nn.Conv3d(
            channels, channels, (3, 1, 1), padding=(1, 0, 0), bias=False)
        if init == 'identity':
            nn.init.zeros_(self.conv.weight)
            with torch.no_grad():
                self.conv.weight[:, :, 1, 0, 0].copy_(torch.eye(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Convolves each clip over time.

        Args:
            x: Input of shape [N*T, C, H, W].

        Returns:
            Output of the same shape.
        """
        num_frames, channels, height, width = x.shape
        num_clips = check_frames(num_frames, self.num_segments,
                                 'TemporalConv1d')
        # [N*T, C, H, W] -> [N, T, C, H, W] -> [N, C, T, H, W]
        x = x.view(num_clips, self.num_segments, channels, height, width)
        out = self.conv(x.transpose(1, 2))
        # [N, C, T, H, W] -> [N, T, C, H, W] -> [N*T, C, H, W]
        return out.transpose(1, 2).reshape(num_frames, channels, height, width)
