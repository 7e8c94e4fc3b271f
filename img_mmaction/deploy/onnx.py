"""Exports a recognizer (backbone + head) to ONNX and checks it.

The exported graph maps frames ``[V*T, 3, H, W]`` (V clips or views of T
segments, as Recognizer2D flattens them) to class scores ``[V, num_classes]``
before the softmax and the averaging over views. The first axis is dynamic:
the file takes any number of clips of T frames.

Usage (``pip install 'img_mmaction[deploy]'`` first)::

    python -m img_mmaction.deploy.onnx CONFIG [--checkpoint CKPT] \
        [--shape 8 3 224 224] [--out model.onnx] [--verify]

CONFIG is a recipe file or a packaged recipe's name (as ``mim`` takes it).
``--shape`` is one clip (T, C, H, W). ``--verify`` runs the file with
onnxruntime on random frames of 1 and 2 clips and reports the largest
difference to PyTorch (it fails above ``--atol``).
"""
from __future__ import annotations
import argparse
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmaction.utils import register_all_modules
from mmengine.config import Config

import img_mmaction  # noqa: F401
from img_mmaction.deploy.extra import require_deploy_extra
from img_mmaction.utils import load_checkpoint_strictly, resolve_config


class ScoresOnly(nn.Module):
    """Backbone and head of a Recognizer2D as one tensor-to-tensor module."""

    def __init__(self, recognizer: nn.Module, num_segments: int) -> None:
        super().__init__()
        self.backbone = recognizer.backbone
        self.cls_head = recognizer.cls_head
        self.num_segments = num_segments

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Args: frames [V*T, 3, H, W]. Returns scores [V, num_classes]."""
        return self.cls_head(self.backbone(frames), self.num_segments)


def build(config: str, checkpoint: Optional[str]) -> ScoresOnly:
    """Builds the recognizer of ``config`` (weights from ``checkpoint``,
    loaded strictly)."""
    register_all_modules()
    cfg = Config.fromfile(str(resolve_config(config)))
    cfg.model.backbone.pretrained = None
    recognizer = MODELS.build(cfg.model)
    if checkpoint:
        load_checkpoint_strictly(recognizer, checkpoint)
    num_segments = cfg.model.cls_head.get(
        'num_segments', cfg.model.backbone.get('num_segments', 8))
    return ScoresOnly(recognizer, num_segments).eval()


def export(model: ScoresOnly, shape: Sequence[int], out: Path) -> Path:
    """Writes the ONNX file (TorchScript exporter, opset 17).

    Args:
        model: The exported module.
        shape: One clip, (T, C, H, W); the frames axis (a multiple of T) is
            dynamic in the file.
        out: The file.

    Raises:
        ImportError: The ``deploy`` extra is not installed.
    """
    require_deploy_extra('ONNX export')
    frames = torch.randn(*shape)
    torch.onnx.export(
        model, (frames, ),
        str(out),
        dynamo=False,
        opset_version=17,
        input_names=['frames'],
        output_names=['scores'],
        dynamic_axes={
            'frames': {
                0: 'clips_x_segments'
            },
            'scores': {
                0: 'clips'
            }
        })
    return out


def verify(model: ScoresOnly,
           onnx_file: Path,
           shape: Sequence[int],
           clips: Sequence[int] = (1, 2)) -> float:
    """Largest |onnxruntime - PyTorch| on random frames of several clips.

    Args:
        model: The exported module.
        onnx_file: The file.
        shape: One clip, (T, C, H, W).
        clips: Numbers of clips to try. Defaults to (1, 2).

    Returns:
        The largest absolute difference over all tries.

    Raises:
        ValueError: onnxruntime returned another number of score rows.
    """
    import onnxruntime
    session = onnxruntime.InferenceSession(str(onnx_file))
    error = 0.0
    for count in clips:
        frames = torch.randn(count * shape[0], *shape[1:])
        ours = session.run(None, {'frames': frames.numpy()})[0]
        with torch.no_grad():
            reference = model(frames).numpy()
        if ours.shape != reference.shape:
            raise ValueError(f'{count} clip(s): onnxruntime gave scores of '
                             f'shape {ours.shape}, PyTorch {reference.shape}')
        error = max(error, float(np.abs(ours - reference).max()))
    return error


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'config', help='recipe file, or a packaged recipe\'s name (as mim)')
    parser.add_argument('--checkpoint', default=None)
    parser.add_argument(
        '--shape',
        type=int,
        nargs=4,
        default=(8, 3, 224, 224),
        metavar=('T', 'C', 'H', 'W'),
        help='one clip; the clip axis is dynamic')
    parser.add_argument('--out', default='model.onnx')
    parser.add_argument('--verify', action='store_true')
    parser.add_argument('--atol', type=float, default=1e-4)
    args = parser.parse_args(argv)
    model = build(args.config, args.checkpoint)
    out = export(model, args.shape, Path(args.out))
    print(f'wrote {out}')
    if args.verify:
        error = verify(model, out, args.shape)
        print(f'max |onnxruntime - torch| = {error:.2e} (1 and 2 clips)')
        if error > args.atol:
            raise SystemExit(f'difference {error:.2e} exceeds --atol '
                             f'{args.atol}')


if __name__ == '__main__':
    main()
