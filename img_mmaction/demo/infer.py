"""Top-k labels for a video file or a folder of frames, via MMAction2's API.

Command::

    python -m img_mmaction.demo.infer CONFIG CHECKPOINT INPUT \
        [--label-map labels.txt] [--topk 5] [--device cpu]

INPUT is a video file (decoded by decord) or a folder of frames (``*.jpg`` or
``*.png``, sorted by name). The config's test pipeline is used; for a frame
folder its video decoding steps are swapped for ``RawFrameDecode``.
"""
from __future__ import annotations

import argparse
import copy
import re
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import torch

import img_mmaction  # noqa: F401  (compat fixes + registration)

_FRAME_SUFFIXES = ('.jpg', '.jpeg', '.png')


def _frame_folder_sample(folder: Path) -> dict:
    """Describes a frame folder for ``RawFrameDecode``."""
    frames = sorted(p for p in folder.iterdir()
                    if p.suffix.lower() in _FRAME_SUFFIXES)
    if not frames:
        raise ValueError(f'{folder} holds no {"/".join(_FRAME_SUFFIXES)} '
                         'frames')
    match = re.fullmatch(r'(\D*)(\d+)(\.\w+)', frames[0].name)
    if match is None:
        raise ValueError(f'cannot read a frame number from {frames[0].name} '
                         f'in {folder}: expected names like img_00001.jpg')
    prefix, digits, suffix = match.groups()
    template = f'{prefix}{{:0{len(digits)}d}}{suffix}'
    return dict(frame_dir=str(folder), total_frames=len(frames),
                filename_tmpl=template, start_index=int(digits),
                label=-1, modality='RGB')


def _rawframe_pipeline(pipeline: List[dict]) -> List[dict]:
    """Replaces video decoding steps with ``RawFrameDecode``."""
    out = []
    for step in pipeline:
        if step['type'] in ('DecordInit', 'PyAVInit', 'OpenCVInit'):
            continue
        if step['type'] in ('DecordDecode', 'PyAVDecode', 'OpenCVDecode'):
            out.append(dict(type='RawFrameDecode'))
            continue
        out.append(step)
    return out


def load_label_map(path: Optional[str], num_classes: int) -> List[str]:
    """One label per line; class indices when no file is given."""
    if path is None:
        return [str(i) for i in range(num_classes)]
    labels = [line.strip() for line in Path(path).read_text().splitlines()
              if line.strip()]
    if len(labels) < num_classes:
        raise ValueError(f'{path} has {len(labels)} labels for a model of '
                         f'{num_classes} classes')
    return labels


def predict(config: str, checkpoint: str, target: str,
            label_map: Optional[str] = None, topk: int = 5,
            device: str = 'cpu') -> List[Tuple[str, float]]:
    """Returns the ``topk`` (label, score) pairs for ``target``.

    Args:
        config: Recognizer config file.
        checkpoint: Checkpoint file (loaded with ``weights_only=True``).
        target: Video file or folder of frames.
        label_map: Text file with one class name per line.
        topk: Number of labels to return. Defaults to 5.
        device: Torch device. Defaults to ``'cpu'``.

    Raises:
        FileNotFoundError: ``target`` does not exist.
    """
    from mmaction.apis import inference_recognizer, init_recognizer
    from mmengine.config import Config

    path = Path(target)
    if not path.exists():
        raise FileNotFoundError(f'{target} does not exist')
    cfg = Config.fromfile(config)
    if path.is_dir():
        cfg.test_pipeline = _rawframe_pipeline(copy.deepcopy(
            cfg.test_pipeline))
        cfg.test_dataloader.dataset.pipeline = cfg.test_pipeline
        sample = _frame_folder_sample(path)
    else:
        sample = str(path)
    model = init_recognizer(cfg, checkpoint, device=device)
    result = inference_recognizer(model, sample)
    scores = result.pred_score.float().cpu()
    labels = load_label_map(label_map, scores.numel())
    values, indices = torch.topk(scores, min(topk, scores.numel()))
    return [(labels[i], float(v)) for v, i in zip(values, indices)]


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        description='Top-k action labels for a video or a frame folder.')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('input', help='video file or folder of frames')
    parser.add_argument('--label-map', default=None,
                        help='text file, one class name per line')
    parser.add_argument('--topk', type=int, default=5)
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args(argv)
    for rank, (label, score) in enumerate(
            predict(args.config, args.checkpoint, args.input, args.label_map,
                    args.topk, args.device), start=1):
        print(f'{rank}. {label}: {score:.4f}')


if __name__ == '__main__':
    main()
