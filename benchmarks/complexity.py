"""FLOPs and parameters of IMG and its references, measured the same way.

Every model is a full MMAction2 ``Recognizer2D`` for Something-Something V1
(174 classes, 8 segments) and is measured with mmengine's counter on one
8x3x224x224 clip (``get_model_complexity_info``, the counter behind
``mim run mmaction get_flops``). mmengine counts one fused multiply-add as
one FLOP, as the paper's table does (TSM-R50: 33 G).

Usage::

    python -m benchmarks.complexity [--shape 8 3 224 224] [--json out.json]
"""
from __future__ import annotations
import argparse
import json
from typing import Dict, Optional, Sequence

import torch
from mmaction.registry import MODELS
from mmaction.utils import register_all_modules
from mmengine.analysis import get_model_complexity_info

import img_mmaction  # noqa: F401
from img_mmaction.testing.reference_recognizers import paper_table, res2net_img

PAPER_GFLOPS = {
    'IMG (Res2Net-50)': 37,
    'CMEM only (Res2Net-50)': 34,
    'TSM (ResNet-50)': 33
}

#: Row added after IMG: the adaptive shift run as Eq. 13's depthwise conv1d.
SHIFT_AS_CONV = 'IMG, shift counted as Eq. 13 depthwise conv1d'


def model_configs(num_segments: int) -> Dict[str, dict]:
    """The paper's Table 1 configurations, plus one way to count the shift.

    mmengine's counter skips element-wise arithmetic, so IMG's default
    adaptive shift (a weighted sum of shifted frames) counts 0 FLOPs. The
    extra row builds the same model with the shift's ``impl='conv1d'``,
    Eq. 13 as a depthwise conv1d, which the counter does count (3
    multiply-adds per element of each shifted slice).

    Args:
        num_segments: Frames per clip.

    Returns:
        ``{name: Recognizer2D config}`` in table order.
    """
    configs = {}
    for name, cfg in paper_table(num_segments).items():
        configs[name] = cfg
        if name == 'IMG (Res2Net-50)':
            configs[SHIFT_AS_CONV] = res2net_img(
                num_segments,
                temporal_cfg=dict(type='AdaptiveShift', impl='conv1d'))
    return configs


def measure(shape: Sequence[int],
            only: Sequence[str] = ()) -> Dict[str, Dict[str, float]]:
    """Measures the models of :func:`model_configs` on one clip.

    Args:
        shape: One clip, (T, C, H, W); T is also ``num_segments``.
        only: Measure only the models whose name contains one of these;
            empty: all. Defaults to ().

    Returns:
        ``{name: {'gflops': ..., 'mparams': ...}}``.
    """
    register_all_modules()
    results = {}
    for name, cfg in model_configs(shape[0]).items():
        if only and not any(part in name for part in only):
            continue
        model = MODELS.build(cfg).eval()
        with torch.no_grad():
            info = get_model_complexity_info(
                model,
                input_shape=tuple(shape),
                show_table=False,
                show_arch=False)
        results[name] = dict(
            gflops=info['flops'] / 1e9, mparams=info['params'] / 1e6)
    return results


def format_table(results: Dict[str, Dict[str, float]]) -> str:
    """Markdown table with the paper's figures beside ours.

    Args:
        results: Output of :func:`measure`.

    Returns:
        The table, one row per model.
    """
    lines = [
        '| model | GFLOPs (ours) | GFLOPs (paper) | params (M) |',
        '|---|---|---|---|'
    ]
    for name, row in results.items():
        paper = PAPER_GFLOPS.get(name)
        lines.append(f"| {name} | {row['gflops']:.2f} | "
                     f"{paper if paper else '-'} | {row['mparams']:.2f} |")
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Command line entry point.

    Args:
        argv: Arguments; None reads ``sys.argv``. Defaults to None.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--shape',
        type=int,
        nargs=4,
        default=(8, 3, 224, 224),
        metavar=('T', 'C', 'H', 'W'))
    parser.add_argument(
        '--models',
        nargs='+',
        default=(),
        help='only the models whose name contains one of these')
    parser.add_argument('--json', default=None, help='also write JSON here')
    args = parser.parse_args(argv)
    results = measure(args.shape, args.models)
    print(format_table(results))
    if args.json:
        with open(args.json, 'w') as handle:
            json.dump(results, handle, indent=2)


if __name__ == '__main__':
    main()
