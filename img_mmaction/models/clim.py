"""CLIM: cascaded long-range motion integration (paper Sec. 3.2.2)."""
from __future__ import annotations
from typing import List, Mapping, Optional

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmcv.cnn import build_activation_layer, build_conv_layer, build_norm_layer

from .checks import check_frames
from .temporal import SHIFT, build_temporal_layer


@MODELS.register_module()
class CLIM(nn.Module):
    """Cascaded long-range motion feature integration (Eq. 14, Fig. 5).

    The input is split into ``scales`` channel slices. One slice passes
    through; each other slice goes through ``conv_spt`` (3x3 conv + BN +
    ReLU) and then the temporal layer (the adaptive shift, SSM), and from the
    second convolved slice on, the previous slice's output is added before
    the convolution::

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
    through ``AvgPool2d(3, stride, 1)``. ``scales=1`` is Res2Net's own
    degenerate case, a ResNet bottleneck's single 3x3 (then followed by the
    temporal layer): one convolved slice and none passed through.

    Args:
        channels: Channels C of the input (``width * scales``).
        num_segments: Frames per clip, T.
        scales: Number of slices (4 in the paper). Defaults to 4.
        stride: Stride of the 3x3 convolutions. Defaults to 1.
        first_block: Res2Net 'stage' block behaviour. Defaults to False.
        temporal_cfg: Registry config of the layer after each ``conv_spt``
            (the SSM of Eq. 14), built with ``channels`` of one slice and
            ``num_segments`` (see :mod:`img_mmaction.models.temporal`), or
            None for none. Defaults to ``dict(type='AdaptiveShift')``.
        conv_cfg: Config of the 3x3 convolutions. Defaults to None
            (``nn.Conv2d``).
        norm_cfg: Norm layer after each 3x3. Defaults to
            ``dict(type='BN')``.
        act_cfg: Activation after each norm, one module per slice. Defaults
            to ``dict(type='ReLU')``.

    Shapes:
        Input [N*T, C, H, W]; output [N*T, C, H/stride, W/stride].
    """

    def __init__(self,
                 channels: int,
                 num_segments: int,
                 scales: int = 4,
                 stride: int = 1,
                 first_block: bool = False,
                 temporal_cfg: Optional[Mapping] = SHIFT,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None) -> None:
        super().__init__()
        if scales < 1:
            raise ValueError(f'CLIM needs scales >= 1, got {scales}')
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
        num_convs = max(scales - 1, 1)
        # conv_spt of Eq. 14, one per convolved slice (Res2Net's convs.i)
        self.convs = nn.ModuleList(
            build_conv_layer(
                conv_cfg,
                width,
                width,
                3,
                stride=stride,
                padding=1,
                bias=False) for _ in range(num_convs))
        self.bns = nn.ModuleList(
            build_norm_layer(norm_cfg, width)[1] for _ in range(num_convs))
        # One activation module per slice, so that a hook on one (GradCAM)
        # sees one call per forward.
        self.acts = nn.ModuleList(
            build_activation_layer(act_cfg) for _ in range(num_convs))
        self.temporal = nn.ModuleList(
            build_temporal_layer(temporal_cfg, width, num_segments,
                                 'CLIM temporal_cfg')
            for _ in range(num_convs))
        self.pool = (
            nn.AvgPool2d(3, stride=stride, padding=1)
            if first_block and scales > 1 else nn.Identity())

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
        for index, (conv, bn, act, temporal) in enumerate(
                zip(self.convs, self.bns, self.acts, self.temporal)):
            current = slices[index]
            if previous is not None and not self.first_block:
                current = current + previous
            previous = temporal(act(bn(conv(current))))
            outputs.append(previous)
        if self.scales > 1:
            outputs.append(self.pool(slices[-1]))
        return torch.cat(outputs, dim=1)
