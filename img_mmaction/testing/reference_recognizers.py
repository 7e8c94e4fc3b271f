"""Full SthV1 recognizers of IMG and its references, for benchmarks and tests.

All are MMAction2 ``Recognizer2D`` configs for 174 classes with
``pretrained`` off, so they build without downloads.
"""
from __future__ import annotations
from typing import Dict

from mmengine.hub import get_config

NUM_CLASSES = 174
_TSM = ('mmaction::recognition/tsm/'
        'tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb.py')
_TSN = ('mmaction::recognition/tsn/'
        'tsn_imagenet-pretrained-r50_8xb32-1x1x8-100e_kinetics400-rgb.py')


def res2net_img(num_segments: int = 8, **backbone: object) -> dict:
    """Recognizer2D on Res2NetIMG-50 with a TSMHead (IMG by default)."""
    return dict(
        type='Recognizer2D',
        backbone=dict(
            type='Res2NetIMG',
            depth=50,
            num_segments=num_segments,
            pretrained=None,
            **backbone),
        cls_head=dict(
            type='TSMHead',
            num_classes=NUM_CLASSES,
            in_channels=2048,
            num_segments=num_segments,
            is_shift=True,
            average_clips='prob'),
        data_preprocessor=dict(
            type='ActionDataPreprocessor', format_shape='NCHW'))


def _stock(config: str) -> dict:
    return get_config(config, pretrained=False).model.to_dict()


def tsm_r50(num_segments: int = 8) -> dict:
    """MMAction2's own TSM-R50, 174 classes."""
    model = _stock(_TSM)
    model['backbone'].update(
        pretrained=None, pretrained2d=False, num_segments=num_segments)
    model['cls_head'].update(
        num_classes=NUM_CLASSES, num_segments=num_segments)
    return model


def tsn_r50(num_segments: int = 8) -> dict:
    """MMAction2's own TSN-R50 (no temporal modelling), 174 classes."""
    model = _stock(_TSN)
    model['backbone'].update(pretrained=None)
    model['cls_head'].update(num_classes=NUM_CLASSES)
    return model


def paper_table(num_segments: int = 8) -> Dict[str, dict]:
    """The configurations compared in the paper's Table 1, and TSN."""
    return {
        'IMG (Res2Net-50)':
        res2net_img(num_segments),
        'IMG, dense temporal conv in CLIM':
        res2net_img(num_segments, temporal_cfg=dict(type='TemporalConv1d')),
        'CMEM only (Res2Net-50)':
        res2net_img(num_segments, with_cmem=True, temporal_cfg=None),
        'Res2Net-50 (TSN, no temporal)':
        res2net_img(num_segments, with_cmem=False, temporal_cfg=None),
        'TSM (ResNet-50)':
        tsm_r50(num_segments),
    }
