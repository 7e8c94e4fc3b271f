"""IMG components, registered in ``mmaction.registry.MODELS``.

========================  ===============================  ==============
type name                 what                             paper
========================  ===============================  ==============
``CMEM``                  short-range motion attention     Eqs. 1-9
``AdaptiveShift``         learnable temporal shift         Eq. 13, Fig. 4
``TemporalConv1d``        plain (2+1)D temporal conv       Tables 3-4
``CLIM``                  cascaded long-range integration  Eq. 14, Fig. 5
``Res2NetIMG``            Res2Net-50/101 with IMG blocks   Fig. 2
``ResNetIMG``             MMAction2 ResNet + CMEM/shift    Table 3
========================  ===============================  ==============

OURS, not the paper's: ``causal=True`` on CMEM and AdaptiveShift, the
protocol of a causal module that streams (:class:`StreamableModule`), and
:class:`StreamingRecognizer` (frame-by-frame inference), docs/online.md.

Temporal layers (the shift, the temporal conv, your own) are chosen by a
registry config, ``temporal_cfg``: see :mod:`img_mmaction.models.temporal`.
"""
from .causal import StreamableModule
from .clim import CLIM
from .cmem import CMEM
from .pretrained import (PretrainedMismatchError, load_res2net_imagenet,
                         map_res2net_key)
from .res2net_img import IMGBottleneck, Res2NetIMG
from .resnet_img import IMGResNetBottleneck, ResNetIMG
from .streaming import StreamingLayer, StreamingRecognizer
from .temporal import (SHIFT, AdaptiveShift, TemporalConv1d,
                       build_temporal_layer, causal_tsm_kernel, tsm_kernel)

__all__ = [
    'AdaptiveShift', 'CLIM', 'CMEM', 'IMGBottleneck', 'IMGResNetBottleneck',
    'PretrainedMismatchError', 'Res2NetIMG', 'ResNetIMG', 'SHIFT',
    'StreamableModule', 'StreamingLayer', 'StreamingRecognizer',
    'TemporalConv1d', 'build_temporal_layer', 'causal_tsm_kernel',
    'load_res2net_imagenet', 'map_res2net_key', 'tsm_kernel'
]
