"""Temporal layers: what CLIM puts after each slice's 3x3 convolution.

A temporal layer is any module registered in ``mmaction.registry.MODELS``
whose constructor takes ``channels`` and ``num_segments`` (set by the block
that builds it) and whose forward maps ``[N*T, C, H, W]`` to the same shape,
mixing only the T frames of each clip. Blocks build it from a config with
:func:`build_temporal_layer`, e.g.
``temporal_cfg=dict(type='AdaptiveShift', shift_div=8, init='tsm')``,
``dict(type='TemporalConv1d')``, or None for none. To add one, write such a
module, decorate it with ``@MODELS.register_module()``, import it here, and
name it in ``temporal_cfg``.
"""
from .adaptive_shift import AdaptiveShift, causal_tsm_kernel, tsm_kernel
from .builder import SHIFT, build_temporal_layer
from .temporal_conv import TemporalConv1d

__all__ = [
    'AdaptiveShift', 'SHIFT', 'causal_tsm_kernel', 'TemporalConv1d',
    'build_temporal_layer', 'tsm_kernel'
]
