"""CLIM: cascaded long-range motion integration (paper Sec. 3.2.2)."""
from __future__ import annotations

from typing import List, Optional

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmcv.cnn import (build_activation_layer, build_conv_layer,
                      build_norm_layer)

from ._segments import check_frames
from .adaptive_shift import AdaptiveShift
from .temporal_conv import TemporalConv1d

TEMPORAL_TYPES = ('shift', 'conv1d', 'none')


def build_temporal(temporal: str, channels: int, num_segments: int,
                   shift_div: int = 8, shift_init: str = 'tsm',
                   shift_frozen: bool = False,
                   shift_impl: str = 'sum') -> nn.Module:
    """Builds the temporal layer that follows each ``conv_spt``.

    Args:
        temporal: ``'shift'`` (AdaptiveShift, the paper's SSM),
            ``'conv1d'`` (TemporalConv1d, Table 4 (a)) or ``'none'``.
        channels: Channels of the slice.
        num_segments: Frames per clip.
        shift_div: AdaptiveShift's ``shift_div``.
        shift_init: AdaptiveShift's ``init``.
        shift_frozen: AdaptiveShift's ``frozen``.
        shift_impl: AdaptiveShift's ``impl``.

    Returns:
        The layer (``nn.Identity`` for ``'none'``).

    Raises:
        ValueError: ``temporal`` is not one of ``TEMPORAL_TYPES``.
    """
    if temporal == 'shift':
        return AdaptiveShift(channels, num_segments, shift_div, shift_init,
                             shift_frozen, shift_impl)
    if temporal == 'conv1d':
        return TemporalConv1d(channels, num_segments)
    if temporal == 'none':
        return nn.Identity()
    raise ValueError(f'temporal must be one of {TEMPORAL_TYPES}, '
                     f'got {temporal!r}')


#: ``shift_cfg`` key -> ``build_temporal`` argument.
_SHIFT_CFG_KEYS = {'shift_div': 'shift_div', 'init': 'shift_init',
                   'frozen': 'shift_frozen', 'impl': 'shift_impl'}


def shift_kwargs(shift_cfg: Optional[dict]) -> dict:
    """Turns a backbone's ``shift_cfg`` into ``build_temporal`` arguments.

    Args:
        shift_cfg: ``dict(shift_div=8, init='tsm', frozen=False,
            impl='sum')`` or a subset of it; None for the defaults.

    Returns:
        Keyword arguments ``shift_div``, ``shift_init``, ``shift_frozen``,
        ``shift_impl`` (only those given).

    Raises:
        ValueError: ``shift_cfg`` has a key other than the four above.
    """
    shift_cfg = dict(shift_cfg or {})
    unknown = sorted(set(shift_cfg) - set(_SHIFT_CFG_KEYS))
    if unknown:
        raise ValueError(f'shift_cfg: unknown key(s) {unknown}; allowed: '
                         f'{sorted(_SHIFT_CFG_KEYS)}')
    return {_SHIFT_CFG_KEYS[k]: v for k, v in shift_cfg.items()}


@MODELS.register_module()
class CLIM(nn.Module):
    """Cascaded long-range motion feature integration (Eq. 14, Fig. 5).

    The input is split into ``scales`` channel slices. One slice passes
    through; each other slice goes through ``conv_spt`` (3x3 conv + BN +
    ReLU) and then the adaptive shift (SSM), and from the second convolved
    slice on, the previous slice's output is added before the convolution::

        X'_i = SSM(conv_spt(X_i))                i = first convolved slice
        X'_i = SSM(conv_spt(X_i + X'_{i-1}))     the others          (Eq. 14)

    and the outputs are concatenated.

    Slice order: Eq. 14 passes slice 0 through and convolves 1..3; Res2Net
    convolves chunks 0..2 and passes the last one through. We keep Res2Net's
    order so that ImageNet Res2Net weights (``convs.i``/``bns.i``) keep
    their meaning. The two orders differ only by a relabelling of slices,
    i.e. a permutation of the channels of the 1x1 convolutions before and
    after, which are learned: the function class is the same.

    ``first_block=True`` is Res2Net's 'stage' block (the first block of a
    stage): no cascade, the stride on every 3x3, and the pass-through slice
    through ``AvgPool2d(3, stride, 1)``.

    Args:
        channels: Channels C of the input (``width * scales``).
        num_segments: Frames per clip, T.
        scales: Number of slices (4 in the paper). Defaults to 4.
        stride: Stride of the 3x3 convolutions. Defaults to 1.
        first_block: Res2Net 'stage' block behaviour. Defaults to False.
        temporal: Layer after each ``conv_spt``: ``'shift'``, ``'conv1d'``
            or ``'none'``. Defaults to ``'shift'``.
        shift_div: AdaptiveShift's ``shift_div``. Defaults to 8.
        shift_init: AdaptiveShift's ``init``. Defaults to ``'tsm'``.
        shift_frozen: AdaptiveShift's ``frozen``. Defaults to False.
        shift_impl: AdaptiveShift's ``impl``. Defaults to ``'sum'``.
        conv_cfg: Config of the 3x3 convolutions. Defaults to None
            (``nn.Conv2d``).
        norm_cfg: Norm layer after each 3x3. Defaults to
            ``dict(type='BN')``.
        act_cfg: Activation after each norm. Defaults to
            ``dict(type='ReLU')``.

    Shapes:
        Input [N*T, C, H, W]; output [N*T, C, H/stride, W/stride].
    """

    def __init__(self, channels: int, num_segments: int, scales: int = 4,
                 stride: int = 1, first_block: bool = False,
                 temporal: str = 'shift', shift_div: int = 8,
                 shift_init: str = 'tsm', shift_frozen: bool = False,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 shift_impl: str = 'sum') -> None:
        super().__init__()
        if scales < 2:
            raise ValueError(f'CLIM needs scales >= 2, got {scales}')
        if channels % scales != 0:
            raise ValueError(f'CLIM: channels={channels} is not divisible by '
                             f'scales={scales}')
        norm_cfg = norm_cfg if norm_cfg is not None else dict(type='BN')
        act_cfg = act_cfg if act_cfg is not None else dict(type='ReLU')
        width = channels // scales
        self.width = width
        self.scales = scales
        self.first_block = first_block
        self.num_segments = num_segments
        # conv_spt of Eq. 14, one per convolved slice (Res2Net's convs.i)
        self.convs = nn.ModuleList(
            build_conv_layer(conv_cfg, width, width, 3, stride=stride,
                             padding=1, bias=False)
            for _ in range(scales - 1))
        self.bns = nn.ModuleList(
            build_norm_layer(norm_cfg, width)[1] for _ in range(scales - 1))
        self.act = build_activation_layer(act_cfg)
        self.temporal = nn.ModuleList(
            build_temporal(temporal, width, num_segments, shift_div,
                           shift_init, shift_frozen, shift_impl)
            for _ in range(scales - 1))
        self.pool = (nn.AvgPool2d(3, stride=stride, padding=1)
                     if first_block else nn.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Applies Eq. 14 slice by slice.

        Args:
            x: Input of shape [N*T, C, H, W].

        Returns:
            Output of shape [N*T, C, H/stride, W/stride].

        Raises:
            ValueError: N*T is not a multiple of ``num_segments``.
        """
        check_frames(x.shape[0], self.num_segments, 'CLIM')
        slices = torch.split(x, self.width, dim=1)
        outputs: List[torch.Tensor] = []
        previous: Optional[torch.Tensor] = None
        for index, (conv, bn, temporal) in enumerate(
                zip(self.convs, self.bns, self.temporal)):
            current = slices[index]
            if previous is not None and not self.first_block:
                current = current + previous
            previous = temporal(self.act(bn(conv(current))))
            outputs.append(previous)
        outputs.append(self.pool(slices[-1]))
        return torch.cat(outputs, dim=1)
