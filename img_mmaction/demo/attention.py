"""Reads CMEM's attention out of a recognizer for one clip."""
from __future__ import annotations
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config

from img_mmaction.models import CMEM


def cmem_attention(model: nn.Module,
                   inputs: torch.Tensor) -> Dict[str, torch.Tensor]:
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


def prepare_clip(cfg: Config, model: nn.Module,
                 video: Path) -> Tuple[np.ndarray, torch.Tensor]:
    """One video through the recipe's test pipeline and preprocessor.

    Args:
        cfg: The recipe (its test loader's pipeline, the one ``mim test``
            runs).
        model: The recognizer (its ``data_preprocessor``).
        video: A video file.

    Returns:
        ``(frames, inputs)``: the sampled, cropped frames as uint8
        [T, H, W, 3] for display, and the normalised backbone input
        [T, 3, H, W] (one view).
    """
    from mmengine.dataset import Compose, pseudo_collate

    pipeline = Compose(cfg.test_dataloader.dataset.pipeline)
    data = pipeline(
        dict(filename=str(video), label=-1, start_index=0, modality='RGB'))
    # [T, 3, H, W] uint8 -> [T, H, W, 3] for display
    frames = data['inputs'].permute(0, 2, 3, 1).numpy().astype(np.uint8)
    with torch.no_grad():
        batch = model.data_preprocessor(pseudo_collate([data]), False)
    # [1, T, 3, H, W] -> [T, 3, H, W]
    return frames, batch['inputs'][0]
