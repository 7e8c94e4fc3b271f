"""FLOPs and parameters of IMG and its references, measured the same way.

Every model is a full MMAction2 ``Recognizer2D`` for Something-Something V1
(174 classes, 8 segments) and is measured with mmengine's counter on one
8x3x224x224 clip (``get_model_complexity_info``, the counter behind
``mim run mmaction get_flops``). mmengine counts one fused multiply-add as
one FLOP, as the paper's table does (TSM-R50: 33 G).

Usage::

    python tools/model_complexity.py [--shape 8 3 224 224] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
from typing import Dict, Optional, Sequence

import torch
from mmengine.analysis import get_model_complexity_info
from mmengine.hub import get_config

import img_mmaction  # noqa: F401
from mmaction.registry import MODELS
from mmaction.utils import register_all_modules

NUM_CLASSES = 174
PAPER_GFLOPS = {'IMG (Res2Net-50)': 37, 'CMEM only (Res2Net-50)': 34,
                'TSM (ResNet-50)': 33}


def res2net_recognizer(num_segments: int, **backbone: object) -> dict:
    """A Recognizer2D on Res2NetIMG-50 with a TSMHead."""
    return dict(
        type='Recognizer2D',
        backbone=dict(type='Res2NetIMG', depth=50, num_segments=num_segments,
                      pretrained=None, **backbone),
        cls_head=dict(type='TSMHead', num_classes=NUM_CLASSES,
                      in_channels=2048, num_segments=num_segments,
                      is_shift=True),
        data_preprocessor=dict(type='ActionDataPreprocessor',
                               format_shape='NCHW'))


def tsm_recognizer(num_segments: int) -> dict:
    """MMAction2's own TSM-R50, as in its model zoo, with 174 classes."""
    cfg = get_config('mmaction::recognition/tsm/'
                     'tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_'
                     'kinetics400-rgb.py', pretrained=False)
    model = cfg.model.to_dict()
    model['backbone'].update(pretrained=None, pretrained2d=False,
                             num_segments=num_segments)
    model['cls_head'].update(num_classes=NUM_CLASSES,
                             num_segments=num_segments)
    return model


def model_zoo(num_segments: int) -> Dict[str, dict]:
    """The four configurations compared in the paper's Table 1."""
    return {
        'IMG (Res2Net-50)': res2net_recognizer(num_segments),
        'IMG, dense temporal conv in CLIM': res2net_recognizer(
            num_segments, temporal='conv1d'),
        'CMEM only (Res2Net-50)': res2net_recognizer(
            num_segments, with_cmem=True, temporal='none'),
        'Res2Net-50 (TSN, no temporal)': res2net_recognizer(
            num_segments, with_cmem=False, temporal='none'),
        'TSM (ResNet-50)': tsm_recognizer(num_segments),
    }


def measure(shape: Sequence[int]) -> Dict[str, Dict[str, float]]:
    """Returns ``{name: {'gflops': ..., 'mparams': ...}}``."""
    register_all_modules()
    results = {}
    for name, cfg in model_zoo(shape[0]).items():
        model = MODELS.build(cfg).eval()
        with torch.no_grad():
            info = get_model_complexity_info(model, input_shape=tuple(shape),
                                             show_table=False,
                                             show_arch=False)
        results[name] = dict(gflops=info['flops'] / 1e9,
                             mparams=info['params'] / 1e6)
    return results


def format_table(results: Dict[str, Dict[str, float]]) -> str:
    """Markdown table with the paper's figures beside ours."""
    lines = ['| model | GFLOPs (ours) | GFLOPs (paper) | params (M) |',
             '|---|---|---|---|']
    for name, row in results.items():
        paper = PAPER_GFLOPS.get(name)
        lines.append(f"| {name} | {row['gflops']:.2f} | "
                     f"{paper if paper else '-'} | {row['mparams']:.2f} |")
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--shape', type=int, nargs=4,
                        default=(8, 3, 224, 224), metavar=('T', 'C', 'H', 'W'))
    parser.add_argument('--json', default=None, help='also write JSON here')
    args = parser.parse_args(argv)
    results = measure(args.shape)
    print(format_table(results))
    if args.json:
        with open(args.json, 'w') as handle:
            json.dump(results, handle, indent=2)


if __name__ == '__main__':
    main()
