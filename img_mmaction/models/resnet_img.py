"""CMEM and CLIM's temporal layer inside MMAction2's own ResNet."""
from __future__ import annotations

from functools import partial
from typing import Any, Optional

import torch
import torch.nn as nn
from mmaction.models.backbones.resnet import Bottleneck, ResNet
from mmaction.registry import MODELS
from mmengine.logging import print_log

from ._segments import check_frames
from .clim import TEMPORAL_TYPES, build_temporal, shift_kwargs
from .cmem import CMEM
from .res2net_img import PerStage, check_cmem_cfg, per_stage


def _apply_after(post: nn.Module, module: nn.Module, inputs: Any,
                 output: torch.Tensor) -> torch.Tensor:
    """Forward hook: replaces ``module``'s output with ``post(output)``.

    Args:
        post: The module to run on the output (CMEM or a temporal layer).
        module: The hooked module (unused).
        inputs: Its inputs (unused).
        output: Its output.

    Returns:
        ``post(output)``.
    """
    return post(output)


@MODELS.register_module()
class ResNetIMG(ResNet):
    """MMAction2's ResNet with CMEM and a temporal layer in each bottleneck.

    The paper's "CMEM + ResNet" and "(2+1)D ResNet" rows (Table 3): in every
    Bottleneck of the chosen stages, CMEM (Eqs. 1-9) follows ``conv1`` and
    the temporal layer (adaptive shift, Eq. 13, or a plain temporal conv)
    follows the 3x3 ``conv2``. ResNet itself is not copied: the new modules
    are attached to MMAction2's blocks (``layerX.Y.cmem``,
    ``layerX.Y.temporal``) and run through forward hooks on ``conv1`` and
    ``conv2``, so every ResNet key, and torchvision weight loading, stays
    as it is.

    Args:
        depth: ResNet depth, 50, 101 or 152 (bottleneck blocks).
            Defaults to 50.
        num_segments: Frames per clip T. Defaults to 8.
        with_cmem: CMEM on/off, one bool or one per stage. Defaults to True.
        temporal: 'shift', 'conv1d' or 'none', one value or one per stage.
            Defaults to 'shift'.
        cmem_cfg: CMEM arguments. Defaults to None.
        shift_cfg: ``shift_div``, ``init``, ``frozen``, ``impl`` of the
            shift. Defaults to None.
        **kwargs: Arguments of :class:`mmaction.models.ResNet`
            (``pretrained``, ``norm_eval``, ``partial_bn``, ...).
    """

    def __init__(self, depth: int = 50, num_segments: int = 8,
                 with_cmem: PerStage = True, temporal: PerStage = 'shift',
                 cmem_cfg: Optional[dict] = None,
                 shift_cfg: Optional[dict] = None, **kwargs: Any) -> None:
        super().__init__(depth=depth, **kwargs)
        if self.block is not Bottleneck:
            raise ValueError(f'ResNetIMG needs bottleneck blocks (depth >= '
                             f'50), got depth={depth}')
        num_stages = len(self.res_layers)
        self.num_segments = num_segments
        self.with_cmem = per_stage(with_cmem, num_stages, 'with_cmem')
        self.temporal = per_stage(temporal, num_stages, 'temporal')
        cmem_cfg = check_cmem_cfg(cmem_cfg)
        temporal_kwargs = shift_kwargs(shift_cfg)
        for stage, layer_name in enumerate(self.res_layers):
            if self.temporal[stage] not in TEMPORAL_TYPES:
                raise ValueError(f'temporal must be one of {TEMPORAL_TYPES},'
                                 f' got {self.temporal[stage]!r}')
            for block in getattr(self, layer_name):
                if self.with_cmem[stage]:
                    block.cmem = CMEM(block.planes, num_segments, **cmem_cfg)
                    block.conv1.register_forward_hook(
                        partial(_apply_after, block.cmem))
                if self.temporal[stage] != 'none':
                    block.temporal = build_temporal(
                        self.temporal[stage], block.planes, num_segments,
                        **temporal_kwargs)
                    block.conv2.register_forward_hook(
                        partial(_apply_after, block.temporal))

    def init_weights(self) -> None:
        """Initialises as ResNet does, then reports the IMG parameters.

        With a (torchvision) ``pretrained`` checkpoint, ResNet loads every
        ResNet weight; the CMEM and temporal parameters are not in it and
        keep their initialisation: their names are logged.
        """
        super().init_weights()
        if isinstance(self.pretrained, str):
            new = [name for name, _ in self.named_parameters()
                   if '.cmem.' in name or '.temporal.' in name]
            print_log(f'ResNetIMG: {len(new)} new IMG parameters (CMEM / '
                      f'temporal) are not in {self.pretrained} and keep '
                      f'their initialisation: {new}', logger='current')

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
