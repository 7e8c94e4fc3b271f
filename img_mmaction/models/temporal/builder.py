"""Builds a temporal layer from its registry config."""
from __future__ import annotations
import difflib
import inspect
from types import MappingProxyType
from typing import Mapping, Optional

import torch.nn as nn
from mmaction.registry import MODELS

from ..checks import check_kwargs

#: The paper's temporal layer (Eq. 13 initialised as TSM, trained): the
#: default of CLIM and both backbones. Read-only; copied before use.
SHIFT: Mapping = MappingProxyType(dict(type='AdaptiveShift'))


def build_temporal_layer(cfg: Optional[Mapping],
                         channels: int,
                         num_segments: int,
                         where: str = 'temporal_cfg') -> nn.Module:
    """Builds the temporal layer that ``cfg`` describes.

    Args:
        cfg: ``dict(type=..., **arguments)`` of a registered temporal layer,
            or None for no layer (``nn.Identity``).
        channels: Channels of the features it mixes; set by the caller.
        num_segments: Frames per clip; set by the caller.
        where: Name of the config, for error messages. Defaults to
            ``'temporal_cfg'``.

    Returns:
        The layer.

    Raises:
        TypeError: ``cfg`` is neither None nor a dict with a ``type``.
        ValueError: ``cfg`` sets ``channels`` or ``num_segments`` (the block
            does), names an unregistered type, or an argument the type does
            not take.
    """
    if cfg is None:
        return nn.Identity()
    if not isinstance(cfg, Mapping) or 'type' not in cfg:
        raise TypeError(f"{where} must be None or a dict with a 'type', e.g. "
                        f"dict(type='AdaptiveShift'); got {cfg!r}")
    for key in ('channels', 'num_segments'):
        if key in cfg:
            raise ValueError(f'{where} sets {key!r}, which the block sets '
                             'itself; remove it')
    layer_type = cfg['type']
    layer_class = (
        MODELS.get(layer_type) if isinstance(layer_type, str) else layer_type)
    if layer_class is None:
        close = difflib.get_close_matches(layer_type, list(MODELS.module_dict))
        hint = f' (did you mean {close[0]!r}?)' if close else ''
        raise ValueError(f'{where}: type {layer_type!r} is not registered in '
                         f'mmaction.registry.MODELS{hint}')
    arguments = {k: v for k, v in cfg.items() if k != 'type'}
    try:
        check_kwargs(arguments,
                     inspect.signature(layer_class).parameters,
                     f'{where} ({layer_class.__name__})')
    except TypeError as err:
        raise ValueError(str(err)) from None
    return layer_class(
        channels=channels, num_segments=num_segments, **arguments)
