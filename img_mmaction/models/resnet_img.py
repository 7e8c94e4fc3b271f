"""CMEM and CLIM's temporal layer inside MMAction2's own ResNet."""
from __future__ import annotations
import inspect
from typing import Any, Mapping, Optional

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmaction.models.backbones.resnet import Bottleneck, ResNet
from mmaction.registry import MODELS
from mmengine.logging import print_log

from .checks import check_frames, check_kwargs, per_stage
from .cmem import CMEM
from .res2net_img import RENAMED_ARGS, check_cmem_cfg
from .temporal import SHIFT, build_temporal_layer


class IMGResNetBottleneck(Bottleneck):
    """MMAction2's ResNet Bottleneck with CMEM and a temporal layer.

    ``conv1`` (1x1, BN, ReLU) -> ``cmem`` -> ``conv2`` (3x3, BN, ReLU) ->
    ``temporal`` -> ``conv3`` (1x1, BN), plus the shortcut, then ReLU: the
    paper's "CMEM + ResNet" and "(2+1)D ResNet" blocks (Table 3, Fig. 6).
    It is built as a plain ``Bottleneck`` (same arguments, same keys) with
    both new modules the identity; :class:`ResNetIMG` then sets them, under
    the keys ``cmem.*`` and ``temporal.*``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cmem: nn.Module = nn.Identity()
        self.temporal: nn.Module = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Runs the block.

        Args:
            x: Input of shape [N*T, C_in, H, W].

        Returns:
            Output of shape [N*T, 4 * planes, H / stride, W / stride].
        """

        def residual(inputs: torch.Tensor) -> torch.Tensor:
            out = self.cmem(self.conv1(inputs))  # Eqs. 1-9
            out = self.temporal(self.conv2(out))  # Eq. 13
            out = self.conv3(out)
            identity = (
                inputs if self.downsample is None else self.downsample(inputs))
            return out + identity

        if self.with_cp and x.requires_grad:
            out = cp.checkpoint(residual, x, use_reentrant=False)
        else:
            out = residual(x)
        return self.relu(out)


@MODELS.register_module()
class ResNetIMG(ResNet):
    """MMAction2's ResNet with CMEM and a temporal layer in each bottleneck.

    The paper's "CMEM + ResNet" and "(2+1)D ResNet" rows (Table 3): every
    block of the chosen stages is an :class:`IMGResNetBottleneck`, in which
    CMEM (Eqs. 1-9) follows ``conv1`` and the temporal layer (the adaptive
    shift, Eq. 13, or a plain temporal conv) follows the 3x3 ``conv2``.
    Every ResNet key stays as it is, so torchvision ResNet weights load
    through ResNet's own loader; the new ``layerX.Y.cmem.*`` and
    ``layerX.Y.temporal.*`` tensors are logged as new.

    Args:
        depth: ResNet depth, 50, 101 or 152 (bottleneck blocks).
            Defaults to 50.
        num_segments: Frames per clip T. Defaults to 8.
        with_cmem: CMEM on/off, one bool or one per stage. Defaults to True.
        cmem_cfg: CMEM arguments. Defaults to None.
        temporal_cfg: The temporal layer's registry config or None, one for
            all stages or one per stage. Defaults to
            ``dict(type='AdaptiveShift')``.
        **kwargs: Arguments of :class:`mmaction.models.ResNet`
            (``pretrained``, ``norm_eval``, ``partial_bn``, ...).
    """

    arch_settings = {
        50: (IMGResNetBottleneck, (3, 4, 6, 3)),
        101: (IMGResNetBottleneck, (3, 4, 23, 3)),
        152: (IMGResNetBottleneck, (3, 8, 36, 3)),
    }

    def __init__(self,
                 depth: int = 50,
                 num_segments: int = 8,
                 with_cmem: Any = True,
                 cmem_cfg: Optional[Mapping] = None,
                 temporal_cfg: Any = SHIFT,
                 **kwargs: Any) -> None:
        check_kwargs(kwargs, [
            *inspect.signature(ResNetIMG).parameters,
            *inspect.signature(ResNet).parameters
        ], 'ResNetIMG', RENAMED_ARGS)
        if depth not in self.arch_settings:
            raise ValueError(f'ResNetIMG needs bottleneck blocks (depth >= '
                             f'50): depth must be one of '
                             f'{sorted(self.arch_settings)}, got {depth}')
        super().__init__(depth=depth, **kwargs)
        num_stages = len(self.res_layers)
        self.num_segments = num_segments
        self.with_cmem = per_stage(with_cmem, num_stages, 'with_cmem')
        self.temporal_cfg = per_stage(temporal_cfg, num_stages, 'temporal_cfg')
        cmem_cfg = check_cmem_cfg(cmem_cfg)
        for stage, layer_name in enumerate(self.res_layers):
            for block in getattr(self, layer_name):
                if self.with_cmem[stage]:
                    block.cmem = CMEM(block.planes, num_segments, **cmem_cfg)
                block.temporal = build_temporal_layer(self.temporal_cfg[stage],
                                                      block.planes,
                                                      num_segments)

    def init_weights(self) -> None:
        """Initialises as ResNet does, then the IMG modules, and reports.

        Without a checkpoint ResNet initialises every ``Conv2d`` (CMEM's
        too); CMEM's own initialisation (``init='identity'``) is re-applied
        after it. With a (torchvision) ``pretrained`` checkpoint, ResNet
        loads every ResNet weight; the CMEM and temporal parameters are not
        in it and keep their initialisation: their names are logged.
        """
        super().init_weights()
        for module in self.modules():
            if isinstance(module, CMEM):
                module.init_weights()
        if isinstance(self.pretrained, str):
            new = [
                name for name, _ in self.named_parameters()
                if '.cmem.' in name or '.temporal.' in name
            ]
            print_log(
                f'ResNetIMG: {len(new)} new IMG parameters (CMEM / '
                f'temporal) are not in {self.pretrained} and keep '
                f'their initialisation: {new}',
                logger='current')

    def forward(self, x: torch.Tensor) -> Any:
        """Runs MMAction2's ResNet, with the IMG modules in its blocks.

        Args:
            x: Frames of shape [N*T, 3, H, W].

        Returns:
            ResNet's output(s) for its ``out_indices``.

        Raises:
            ValueError: N*T is not a multiple of ``num_segments``.
        """
        check_frames(x.shape[0], self.num_segments, 'ResNetIMG')
        return super().forward(x)
