"""Res2Net-IMG: Res2Net-50/101 whose bottleneck is 1x1-CMEM-CLIM-1x1."""
from __future__ import annotations
import inspect
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmaction.registry import MODELS
from mmcv.cnn import build_norm_layer
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from torch.nn.modules.batchnorm import _BatchNorm

from .checks import check_frames, check_keys, check_kwargs, per_stage
from .clim import CLIM
from .cmem import CMEM
from .pretrained import load_res2net_imagenet
from .temporal import SHIFT, build_temporal_layer

#: Arguments of CMEM that ``cmem_cfg`` may set.
CMEM_CFG_KEYS = ('reduction', 'alpha', 'beta', 'eps', 'conv_cfg', 'norm_cfg',
                 'init', 'causal')
#: Arguments that ``temporal_cfg`` replaced, and what replaced them.
RENAMED_ARGS = {
    'temporal': "temporal_cfg (e.g. dict(type='AdaptiveShift') or None)",
    'shift_cfg': "temporal_cfg=dict(type='AdaptiveShift', ...)",
}


def check_cmem_cfg(cmem_cfg: Optional[Mapping]) -> dict:
    """Returns a copy of ``cmem_cfg``, refusing keys CMEM does not take.

    Args:
        cmem_cfg: CMEM arguments, or None.

    Returns:
        The arguments as a new dict.

    Raises:
        ValueError: A key is not one of ``CMEM_CFG_KEYS``.
    """
    return check_keys(cmem_cfg, CMEM_CFG_KEYS, 'cmem_cfg')


class IMGBottleneck(nn.Module):
    """The IMG motion feature module (Sec. 3.3, Fig. 2).

    ``conv1`` (1x1) -> BN -> ReLU -> CMEM -> CLIM -> ``conv3`` (1x1) -> BN,
    plus the shortcut, then ReLU. With ``with_cmem=False`` and no temporal
    layer (or a shift at ``init='identity'``) it computes exactly a Res2Net
    bottleneck (Bottle2neck); its keys are Bottle2neck's, with ``convs.i`` /
    ``bns.i`` under ``clim.``.

    Args:
        inplanes: Input channels.
        planes: Base channels of the stage; the output has ``planes * 4``.
        num_segments: Frames per clip, T.
        stride: Stride of the block (on CLIM's 3x3 convolutions).
            Defaults to 1.
        downsample: Projection of the shortcut, or None. Defaults to None.
        base_width: Res2Net's base width (26 for 26w_4s): slices are
            ``planes * base_width // 64`` channels wide. Defaults to 26.
        scales: Res2Net's scale s, CLIM's number of slices. Defaults to 4.
        first_block: The first block of a stage (Res2Net's 'stage' type).
            Defaults to False.
        with_cmem: Insert CMEM after ``conv1``. Defaults to True.
        cmem_cfg: Extra CMEM arguments (``CMEM_CFG_KEYS``). Defaults to None.
        temporal_cfg: CLIM's temporal layer (registry config or None).
            Defaults to ``dict(type='AdaptiveShift')``.
        input_temporal_cfg: A temporal layer on the block's input, in the
            residual branch before ``conv1``: TSM's placement, for the TSM
            baseline; not part of IMG. Defaults to None.
        norm_cfg: Norm layer config. Defaults to None, i.e.
            ``dict(type='BN', requires_grad=True)``.
        with_cp: Gradient checkpointing of the block. Defaults to False.

    Shapes:
        Input [N*T, inplanes, H, W]; output
        [N*T, planes * 4, H / stride, W / stride].
    """

    expansion = 4

    def __init__(self,
                 inplanes: int,
                 planes: int,
                 num_segments: int,
                 stride: int = 1,
                 downsample: Optional[nn.Module] = None,
                 base_width: int = 26,
                 scales: int = 4,
                 first_block: bool = False,
                 with_cmem: bool = True,
                 cmem_cfg: Optional[Mapping] = None,
                 temporal_cfg: Optional[Mapping] = SHIFT,
                 input_temporal_cfg: Optional[Mapping] = None,
                 norm_cfg: Optional[dict] = None,
                 with_cp: bool = False) -> None:
        super().__init__()
        norm_cfg = norm_cfg or dict(type='BN', requires_grad=True)
        width = planes * base_width // 64
        if width < 1:
            raise ValueError(f'planes={planes} with base_width={base_width} '
                             'gives a slice width of 0')
        channels = width * scales
        self.with_cp = with_cp
        self.input_temporal = build_temporal_layer(input_temporal_cfg,
                                                   inplanes, num_segments,
                                                   'input_temporal_cfg')
        self.conv1 = nn.Conv2d(inplanes, channels, 1, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, channels)[1]
        self.relu1 = nn.ReLU(inplace=True)
        self.cmem = (
            CMEM(channels, num_segments, **check_cmem_cfg(cmem_cfg))
            if with_cmem else nn.Identity())
        self.clim = CLIM(
            channels,
            num_segments,
            scales=scales,
            stride=stride,
            first_block=first_block,
            temporal_cfg=temporal_cfg,
            norm_cfg=norm_cfg)
        self.conv3 = nn.Conv2d(
            channels, planes * self.expansion, 1, bias=False)
        self.bn3 = build_norm_layer(norm_cfg, planes * self.expansion)[1]
        self.downsample = downsample
        # The block's output activation; its own module, so that a hook on
        # ``layerX.Y.relu`` (GradCAM's usual target) sees one call.
        self.relu = nn.ReLU(inplace=True)

    def _residual(self, x: torch.Tensor) -> torch.Tensor:
        """The block before its final ReLU: branch + shortcut."""
        out = self.relu1(self.bn1(self.conv1(self.input_temporal(x))))
        out = self.cmem(out)  # Eqs. 1-9
        out = self.clim(out)  # Eq. 14
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return out + identity

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Runs the block.

        Args:
            x: Input of shape [N*T, C_in, H, W].

        Returns:
            Output of shape [N*T, 4 * planes, H / stride, W / stride].
        """
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
    (CMEM / temporal) parameters.

    Args:
        depth: 50 or 101. Defaults to 50.
        num_segments: Frames per clip T. Defaults to 8.
        base_width: Res2Net base width w. Defaults to 26.
        scales: Res2Net scale s (CLIM slices); 1 gives ResNet's bottleneck
            (with ``base_width=64``). Defaults to 4.
        pretrained: Path of an ImageNet Res2Net checkpoint
            (``res2net50_26w_4s-06e79181.pth``), or None. Defaults to None.
        in_channels: Input channels. Defaults to 3.
        num_stages: Number of stages used. Defaults to 4.
        out_indices: Stages whose output is returned. Defaults to (3, ).
        stem_channels: Channels of the 7x7 stem. Defaults to 64.
        base_channels: ``planes`` of the first stage. Defaults to 64.
        with_cmem: CMEM on/off, one bool or one per stage. Defaults to True.
        cmem_cfg: CMEM arguments (``reduction``, ``alpha``, ``beta``,
            ``eps``, ``conv_cfg``, ``norm_cfg``, ``init``, and our
            ``causal``). Defaults to None,
            i.e. ``dict(reduction=16, alpha=1.0, beta=1.0, init='random')``.
        temporal_cfg: CLIM's temporal layer, a registry config or None, one
            for all stages or a list of one per stage; see
            :mod:`img_mmaction.models.temporal`. Defaults to
            ``dict(type='AdaptiveShift')`` (Eq. 13, TSM init, trained).
        input_temporal_cfg: TSM's placement of a temporal layer, on each
            block's input (see :class:`IMGBottleneck`); for the TSM baseline.
            One for all stages or one per stage. Defaults to None.
        norm_cfg: Norm layer config. Defaults to None, i.e.
            ``dict(type='BN', requires_grad=True)``.
        norm_eval: Keep every BN in eval mode while training.
            Defaults to False.
        partial_bn: Freeze every BN but the first (TSN's partial BN, used
            when fine-tuning on UCF101/HMDB51). Defaults to False.
        frozen_stages: Stages (with the stem) whose parameters are frozen,
            -1 for none. Defaults to -1.
        with_cp: Gradient checkpointing in every block. Defaults to False.
        stage_blocks: Blocks per stage, overriding ``depth``'s (3, 4, 6, 3)
            or (3, 4, 23, 3), e.g. for small demo variants; the first
            ``num_stages`` entries are used. Defaults to None.
        channels_last: Keep the weights and run the stem and stages in the
            channels_last memory format (the same values, another layout;
            the input may come in either layout and the outputs are
            returned contiguous). One bool, or one per stage (the stem
            follows stage 1): the fastest layout depends on the batch, e.g.
            ``(True, True, False, False)`` for frame-by-frame streaming on
            CPU (docs/online.md). Res2Net's narrow slices run slower in NCHW
            on CPU (docs/performance.md). Set False for plain NCHW.
            Defaults to True.
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

    def __init__(self,
                 depth: int = 50,
                 num_segments: int = 8,
                 base_width: int = 26,
                 scales: int = 4,
                 pretrained: Optional[str] = None,
                 in_channels: int = 3,
                 num_stages: int = 4,
                 out_indices: Sequence[int] = (3, ),
                 stem_channels: int = 64,
                 base_channels: int = 64,
                 with_cmem: Any = True,
                 cmem_cfg: Optional[Mapping] = None,
                 temporal_cfg: Any = SHIFT,
                 input_temporal_cfg: Any = None,
                 norm_cfg: Optional[dict] = None,
                 norm_eval: bool = False,
                 partial_bn: bool = False,
                 frozen_stages: int = -1,
                 with_cp: bool = False,
                 stage_blocks: Optional[Sequence[int]] = None,
                 channels_last: Union[bool, Sequence[bool]] = True,
                 init_cfg: Optional[dict] = None,
                 **kwargs: Any) -> None:
        check_kwargs(kwargs,
                     inspect.signature(Res2NetIMG).parameters, 'Res2NetIMG',
                     RENAMED_ARGS)
        if init_cfg is not None and init_cfg.get('type') == 'Pretrained':
            pretrained = pretrained or init_cfg['checkpoint']
            init_cfg = None
        super().__init__(init_cfg=init_cfg)
        self.stage_blocks = self._stage_blocks(depth, num_stages, stage_blocks)
        if max(out_indices) >= num_stages:
            raise ValueError(f'out_indices {tuple(out_indices)} exceed the '
                             f'{num_stages} stages')
        self.depth = depth
        self.num_segments = num_segments
        self.pretrained = pretrained
        self.out_indices = tuple(out_indices)
        self.norm_eval = norm_eval
        self.partial_bn = partial_bn
        self.frozen_stages = frozen_stages
        norm_cfg = norm_cfg or dict(type='BN', requires_grad=True)
        # One value per stage; a misspelt cmem_cfg key fails even in
        # stages that build no CMEM.
        self.with_cmem = per_stage(with_cmem, num_stages, 'with_cmem')
        self.temporal_cfg = per_stage(temporal_cfg, num_stages, 'temporal_cfg')
        self.input_temporal_cfg = per_stage(input_temporal_cfg, num_stages,
                                            'input_temporal_cfg')
        #: The memory format of each stage (the stem: stage 1's).
        self.stage_formats = tuple(
            torch.channels_last if last else torch.contiguous_format
            for last in per_stage(channels_last, num_stages, 'channels_last'))
        block_cfg = dict(
            num_segments=num_segments,
            base_width=base_width,
            scales=scales,
            cmem_cfg=check_cmem_cfg(cmem_cfg),
            norm_cfg=norm_cfg,
            with_cp=with_cp)

        self._make_stem(in_channels, stem_channels, norm_cfg)
        inplanes = stem_channels
        self.res_layers: List[str] = []
        for index, num_blocks in enumerate(self.stage_blocks):
            name = f'layer{index + 1}'
            planes = base_channels * 2**index
            self.add_module(
                name,
                self._make_stage(index, inplanes, planes, num_blocks,
                                 block_cfg))
            self.res_layers.append(name)
            inplanes = planes * IMGBottleneck.expansion
        self.feat_dim = inplanes
        # Only the layout of the 2-D convolutions' weights changes, not
        # their values: a given seed builds the same network either way,
        # and state dicts load across layouts (copy_ keeps the destination's
        # layout). Not self.to(): it fails on 5-D weights (TemporalConv1d).
        parts = [(self.conv1, self.stage_formats[0])]
        parts += [(getattr(self, name), layout)
                  for name, layout in zip(self.res_layers, self.stage_formats)]
        for part, layout in parts:
            for module in part.modules():
                if isinstance(module, nn.Conv2d):
                    module.to(memory_format=layout)
        self._freeze_stages()

    def _stage_blocks(self, depth: int, num_stages: int,
                      stage_blocks: Optional[Sequence[int]]
                      ) -> Tuple[int, ...]:
        """Blocks per stage, from ``stage_blocks`` or ``depth``."""
        if not 1 <= num_stages <= 4:
            raise ValueError(f'num_stages must be 1 to 4, got {num_stages}')
        if stage_blocks is None:
            if depth not in self.arch_settings:
                raise ValueError(f'depth must be one of '
                                 f'{sorted(self.arch_settings)}, got {depth}')
            stage_blocks = self.arch_settings[depth]
        if len(stage_blocks) < num_stages or min(stage_blocks) < 1:
            raise ValueError(f'stage_blocks={tuple(stage_blocks)} must give '
                             f'at least one block to each of the '
                             f'{num_stages} stages')
        return tuple(stage_blocks)[:num_stages]

    def _make_stem(self, in_channels: int, stem_channels: int,
                   norm_cfg: dict) -> None:
        """Res2Net-50's stem: 7x7 conv (stride 2), BN, ReLU, 3x3 max pool."""
        self.conv1 = nn.Conv2d(
            in_channels, stem_channels, 7, stride=2, padding=3, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, stem_channels)[1]
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

    def _make_stage(self, index: int, inplanes: int, planes: int,
                    num_blocks: int, block_cfg: dict) -> nn.Sequential:
        """One stage: a strided 'stage' block, then ``num_blocks - 1`` more.

        Args:
            index: Stage index, 0-based (stage 0 has stride 1).
            inplanes: Channels entering the stage.
            planes: The stage's base channels; it outputs ``planes * 4``.
            num_blocks: Blocks in the stage.
            block_cfg: Arguments shared by every block.

        Returns:
            The stage.
        """
        stride = 1 if index == 0 else 2
        outplanes = planes * IMGBottleneck.expansion
        downsample = None
        if stride != 1 or inplanes != outplanes:
            downsample = nn.Sequential(
                nn.Conv2d(inplanes, outplanes, 1, stride=stride, bias=False),
                build_norm_layer(block_cfg['norm_cfg'], outplanes)[1])
        blocks = []
        for block_index in range(num_blocks):
            first = block_index == 0
            blocks.append(
                IMGBottleneck(
                    inplanes if first else outplanes,
                    planes,
                    stride=stride if first else 1,
                    downsample=downsample if first else None,
                    first_block=first,
                    with_cmem=self.with_cmem[index],
                    temporal_cfg=self.temporal_cfg[index],
                    input_temporal_cfg=self.input_temporal_cfg[index],
                    **block_cfg))
        return nn.Sequential(*blocks)

    def init_weights(self) -> None:
        """Loads the ImageNet Res2Net checkpoint when ``pretrained`` is set."""
        super().init_weights()
        if self.pretrained:
            load_res2net_imagenet(
                self, self.pretrained, logger=MMLogger.get_current_instance())

    def forward(self, x: torch.Tensor
                ) -> Union[torch.Tensor, Tuple[torch.Tensor, ...]]:
        """Runs the stem and the stages.

        Args:
            x: Frames of shape [N*T, 3, H, W] (views and clips flattened
                into the batch, ``num_segments`` consecutive frames a clip).

        Returns:
            The output of each stage in ``out_indices``; a single tensor
            when there is one, e.g. [N*T, 2048, H/32, W/32] for stage 3.

        Raises:
            ValueError: N*T is not a multiple of ``num_segments``.
        """
        check_frames(x.shape[0], self.num_segments, 'Res2NetIMG')
        # Layout changes only (a copy where the layout changes).
        x = x.contiguous(memory_format=self.stage_formats[0])
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        outs = []
        for index, name in enumerate(self.res_layers):
            x = x.contiguous(memory_format=self.stage_formats[index])
            x = getattr(self, name)(x)
            if index in self.out_indices:
                # Heads may .view() their input: hand them NCHW.
                outs.append(x.contiguous())
        return outs[0] if len(outs) == 1 else tuple(outs)

    def _freeze_stages(self) -> None:
        """Puts the stem and the first ``frozen_stages`` stages in eval mode
        without gradients."""
        if self.frozen_stages < 0:
            return
        modules = [self.conv1, self.bn1] + [
            getattr(self, name)
            for name in self.res_layers[:self.frozen_stages]
        ]
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
