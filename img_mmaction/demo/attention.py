"""Reads CMEM's attention out of a recognizer for one clip."""
from __future__ import annotations

from typing import Dict, List

import torch
import torch.nn as nn

from img_mmaction.models import CMEM


def cmem_attention(model: nn.Module, inputs: torch.Tensor
                   ) -> Dict[str, torch.Tensor]:
    """Runs the backbone and returns every CMEM layer's attention.

    Args:
        model: A recognizer (or backbone) containing CMEM modules.
        inputs: Normalised frames [N*T, 3, H, W] for the backbone.

    Returns:
        ``{module name: attention [N*T, C]}`` with F^s of Eq. 8.
    """
    captured: Dict[str, torch.Tensor] = {}
    handles: List = []
    for name, module in model.named_modules():
        if isinstance(module, CMEM):
            def hook(mod: CMEM, args: tuple, _name: str = name) -> None:
                # [N*T, C, 1, 1] -> [N*T, C]
                captured[_name] = mod.attention(args[0]).flatten(1).detach()
            handles.append(module.register_forward_pre_hook(hook))
    backbone = getattr(model, 'backbone', model)
    try:
        with torch.no_grad():
            backbone(inputs)
    finally:
        for handle in handles:
            handle.remove()
    return captured
