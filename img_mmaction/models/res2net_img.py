"""Res2Net-IMG: Res2Net-50/101 whose bottleneck is 1x1-CMEM-CLIM-1x1."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmaction.registry import MODELS
from mmcv.cnn import build_norm_layer
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from torch.nn.modules.batchnorm import _BatchNorm

from ._segments import check_frames
from .clim import CLIM, TEMPORAL_TYPES
from .cmem import CMEM
from .pretrained import load_res2net_imagenet

PerStage = Union[bool, str, Sequence]


def per_stage(value: PerStage, num_stages: int, name: str) -> Tuple:
    """Expands one value, or checks one value per stage."""
    if isinstance(value, (bool, str)):
        return (value, ) * num_stages
    value = tuple(value)
    if len(value) != num_stages:
        raise ValueError(f'{name} has {len(value)} entries for {num_stages} '
                         'stages')
    return value


class IMGBottleneck(nn.Module):
    """The IMG motion feature module (Sec. 3.3, Fig. 2).

    ``conv1`` (1x1) -> BN -> ReLU -> CMEM -> CLIM -> ``conv3`` (1x1) -> BN,
    plus the residual. With ``with_cmem=False`` and ``temporal='none'`` it
    is exactly a Res2Net bottleneck (Bottle2neck), key for key.

    Args:
        inplanes: Input channels.
        planes: Base channels of the stage; output is ``planes * 4``.
        num_segments: Frames per clip.
        stride: Stride of the block (on CLIM's 3x3 convolutions).
        downsample: Projection of the residual, or None.
        base_width: Res2Net's base width (26 for 26w_4s).
        scales: Res2Net's scale s (4 for 26w_4s).
        first_block: The first block of a stage (Res2Net's 'stage' type).
        with_cmem: Insert CMEM after ``conv1``.
        temporal: CLIM's temporal layer: 'shift', 'conv1d' or 'none'.
        cmem_cfg: Extra CMEM arguments.
        shift_cfg: ``shift_div``, ``init`` and ``frozen`` of the shift.
        norm_cfg: Norm layer config.
        with_cp: Use gradient checkpointing for the block.
    """

    expansion = 4

    def __init__(self, inplanes: int, planes: int, num_segments: int,
                 stride: int = 1, downsample: Optional[nn.Module] = None,
                 base_width: int = 26, scales: int = 4,
                 first_block: bool = False, with_cmem: bool = True,
                 temporal: str = 'shift', cmem_cfg: Optional[dict] = None,
                 shift_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 with_cp: bool = False) -> None:
        super().__init__()
        norm_cfg = norm_cfg or dict(type='BN', requires_grad=True)
        shift_cfg = dict(shift_cfg or {})
        width = planes * base_width // 64
        if width < 1:
            raise ValueError(f'planes={planes} with base_width={base_width} '
                             'gives a slice width of 0')
        channels = width * scales
        self.with_cp = with_cp
        self.conv1 = nn.Conv2d(inplanes, channels, 1, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, channels)[1]
        self.cmem = (CMEM(channels, num_segments, **(cmem_cfg or {}))
                     if with_cmem else None)
        self.clim = CLIM(channels, num_segments, scales=scales, stride=stride,
                         first_block=first_block, temporal=temporal,
                         shift_div=shift_cfg.get('shift_div', 8),
                         shift_init=shift_cfg.get('init', 'tsm'),
                         shift_frozen=shift_cfg.get('frozen', False),
                         norm_cfg=norm_cfg)
        self.conv3 = nn.Conv2d(channels, planes * self.expansion, 1,
                               bias=False)
        self.bn3 = build_norm_layer(norm_cfg, planes * self.expansion)[1]
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def _residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        if self.cmem is not None:
            out = self.cmem(out)
        out = self.bn3(self.conv3(self.clim(out)))
        identity = x if self.downsample is None else self.downsample(x)
        return out + identity

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x [N*T, C_in, H, W]. Returns [N*T, 4*planes, H', W']."""
        if self.with_cp and x.requires_grad:
            out = cp.checkpoint(self._residual, x, use_reentrant=False)
        else:
            out = self._residual(x)
        return self.relu(out)


@MODELS.register_module()
class Res2NetIMG(BaseModule):
    """Res2Net backbone with IMG blocks (CMEM + CLIM), for TSN-style 2D input.

    Res2Net-50 26w_4s (Gao et al.) with every bottleneck replaced by
    :class:`IMGBottleneck` (Fig. 2). Keys follow the official Res2Net
    checkpoint (``conv1``, ``bn1``, ``layerX.Y.{conv1,bn1,conv3,bn3}``,
    ``downsample.{0,1}``) except CLIM's ``convs``/``bns``, which live under
    ``clim.``; :func:`load_res2net_imagenet` maps them and reports the new
    (CMEM / shift) parameters.

    Args:
        depth: 50 or 101. Defaults to 50.
        num_segments: Frames per clip T. Defaults to 8.
        base_width: Res2Net base width w. Defaults to 26.
        scales: Res2Net scale s (CLIM slices). Defaults to 4.
        pretrained: Path of an ImageNet Res2Net checkpoint
            (``res2net50_26w_4s-06e79181.pth``), or None. Defaults to None.
        in_channels: Input channels. Defaults to 3.
        num_stages: Number of stages used. Defaults to 4.
        out_indices: Stages whose output is returned. Defaults to (3, ).
        stem_channels: Channels of the 7x7 stem. Defaults to 64.
        base_channels: ``planes`` of the first stage. Defaults to 64.
        stage_blocks: Blocks per stage, overriding ``depth`` (small demo
            variants). Defaults to None.
        with_cmem: CMEM on/off, one bool or one per stage. Defaults to True.
        temporal: CLIM's temporal layer per stage ('shift', 'conv1d',
            'none'), one value or one per stage. Defaults to 'shift'.
        cmem_cfg: CMEM arguments (``reduction``, ``alpha``, ``beta``).
        shift_cfg: Shift arguments (``shift_div``, ``init``, ``frozen``).
        norm_cfg: Norm layer config. Defaults to BN.
        norm_eval: Keep every BN in eval mode while training.
            Defaults to False.
        partial_bn: Freeze every BN but the first (TSN's partial BN, used
            when fine-tuning on UCF101/HMDB51). Defaults to False.
        frozen_stages: Stages (with the stem) whose parameters are frozen,
            -1 for none. Defaults to -1.
        with_cp: Gradient checkpointing in every block. Defaults to False.
        init_cfg: ``dict(type='Pretrained', checkpoint=PATH)`` is the same as
            ``pretrained=PATH``. Defaults to None.

    Example:
        >>> import torch
        >>> model = Res2NetIMG(num_segments=8, out_indices=(0, 1, 2, 3))
        >>> outputs = model(torch.rand(8, 3, 64, 64))
        >>> [tuple(o.shape) for o in outputs]
        [(8, 256, 16, 16), (8, 512, 8, 8), (8, 1024, 4, 4), (8, 2048, 2, 2)]
    """

    arch_settings: Dict[int, Tuple[int, ...]] = {
        50: (3, 4, 6, 3),
        101: (3, 4, 23, 3),
    }

    def __init__(self, depth: int = 50, num_segments: int = 8,
                 base_width: int = 26, scales: int = 4,
                 pretrained: Optional[str] = None, in_channels: int = 3,
                 num_stages: int = 4, out_indices: Sequence[int] = (3, ),
                 stem_channels: int = 64, base_channels: int = 64,
                 stage_blocks: Optional[Sequence[int]] = None,
                 with_cmem: PerStage = True, temporal: PerStage = 'shift',
                 cmem_cfg: Optional[dict] = None,
                 shift_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None, norm_eval: bool = False,
                 partial_bn: bool = False, frozen_stages: int = -1,
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        if init_cfg is not None and init_cfg.get('type') == 'Pretrained':
            pretrained = pretrained or init_cfg['checkpoint']
            init_cfg = None
        super().__init__(init_cfg=init_cfg)
        if stage_blocks is None:
            if depth not in self.arch_settings:
                raise ValueError(f'depth must be one of '
                                 f'{sorted(self.arch_settings)}, got {depth}')
            stage_blocks = self.arch_settings[depth][:num_stages]
        stage_blocks = tuple(stage_blocks)
        if not 1 <= len(stage_blocks) <= 4:
            raise ValueError(f'1 to 4 stages are supported, got '
                             f'{len(stage_blocks)}')
        num_stages = len(stage_blocks)
        if max(out_indices) >= num_stages:
            raise ValueError(f'out_indices {tuple(out_indices)} exceed the '
                             f'{num_stages} stages')
        self.depth = depth
        self.num_segments = num_segments
        self.pretrained = pretrained
        self.out_indices = tuple(out_indices)
        self.stage_blocks = stage_blocks
        self.with_cmem = per_stage(with_cmem, num_stages, 'with_cmem')
        self.temporal = per_stage(temporal, num_stages, 'temporal')
        for value in self.temporal:
            if value not in TEMPORAL_TYPES:
                raise ValueError(f'temporal must be one of {TEMPORAL_TYPES}'
                                 f', got {value!r}')
        self.norm_eval = norm_eval
        self.partial_bn = partial_bn
        self.frozen_stages = frozen_stages
        norm_cfg = norm_cfg or dict(type='BN', requires_grad=True)

        self.conv1 = nn.Conv2d(in_channels, stem_channels, 7, stride=2,
                               padding=3, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, stem_channels)[1]
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

        inplanes = stem_channels
        self.res_layers: List[str] = []
        for index, num_blocks in enumerate(stage_blocks):
            planes = base_channels * 2**index
            stride = 1 if index == 0 else 2
            downsample = None
            if stride != 1 or inplanes != planes * IMGBottleneck.expansion:
                downsample = nn.Sequential(
                    nn.Conv2d(inplanes, planes * IMGBottleneck.expansion, 1,
                              stride=stride, bias=False),
                    build_norm_layer(norm_cfg,
                                     planes * IMGBottleneck.expansion)[1])
            blocks = []
            for block_index in range(num_blocks):
                blocks.append(IMGBottleneck(
                    inplanes, planes, num_segments,
                    stride=stride if block_index == 0 else 1,
                    downsample=downsample if block_index == 0 else None,
                    base_width=base_width, scales=scales,
                    first_block=block_index == 0,
                    with_cmem=self.with_cmem[index],
                    temporal=self.temporal[index], cmem_cfg=cmem_cfg,
                    shift_cfg=shift_cfg, norm_cfg=norm_cfg, with_cp=with_cp))
                inplanes = planes * IMGBottleneck.expansion
            name = f'layer{index + 1}'
            self.add_module(name, nn.Sequential(*blocks))
            self.res_layers.append(name)
        self.feat_dim = inplanes
        self._freeze_stages()

    def init_weights(self) -> None:
        """Loads the ImageNet Res2Net checkpoint when ``pretrained`` is set."""
        super().init_weights()
        if self.pretrained:
            load_res2net_imagenet(self, self.pretrained,
                                  logger=MMLogger.get_current_instance())

    def forward(self, x: torch.Tensor
                ) -> Union[torch.Tensor, Tuple[torch.Tensor, ...]]:
        """Args: x [N*T, 3, H, W]. Returns the output(s) of ``out_indices``."""
        check_frames(x.shape[0], self.num_segments, 'Res2NetIMG')
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        outs = []
        for index, name in enumerate(self.res_layers):
            x = getattr(self, name)(x)
            if index in self.out_indices:
                outs.append(x)
        return outs[0] if len(outs) == 1 else tuple(outs)

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        modules = [self.conv1, self.bn1] + [
            getattr(self, name)
            for name in self.res_layers[:self.frozen_stages]]
        for module in modules:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> 'Res2NetIMG':
        """Sets train mode, then re-applies frozen stages and BN policies."""
        super().train(mode)
        self._freeze_stages()
        if not mode:
            return self
        batch_norms = [m for m in self.modules() if isinstance(m, _BatchNorm)]
        if self.norm_eval:
            for module in batch_norms:
                module.eval()
        elif self.partial_bn:
            for module in batch_norms[1:]:
                module.eval()
                module.weight.requires_grad = False
                module.bias.requires_grad = False
        return self
