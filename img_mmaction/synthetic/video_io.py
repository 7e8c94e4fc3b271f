"""Writes frames as mp4 files that decord reads, and generated datasets."""
from __future__ import annotations
import json
import os
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence

import numpy as np


def write_video(path: os.PathLike, frames: np.ndarray, fps: int = 10) -> None:
    """Writes RGB frames to an mp4 file that decord can read.

    OpenCV encodes with fourcc ``mp4v`` (``avc1`` is not available in the
    pip wheels of OpenCV); decord 0.6 decodes it.

    Args:
        path: Output file path (its folder is created).
        frames: uint8 array of shape [T, H, W, 3] in RGB order.
        fps: Frames per second. Defaults to 10.

    Raises:
        ValueError: ``frames`` is not a [T, H, W, 3] uint8 array.
        RuntimeError: OpenCV could not open a writer for ``path``.
    """
    import cv2
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError('frames must be a uint8 array of shape [T, H, W, 3], '
                         f'got {frames.dtype} {tuple(frames.shape)}')
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = frames.shape[1:3]
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*'mp4v'), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV cannot write an mp4v video to {path}')
    try:
        for frame in frames:
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()


#: Seed offset of each split's scenes (train and test never share a scene).
SPLIT_OFFSETS: Dict[str, int] = {'train': 0, 'val': 10**6}


def scene_seed(seed: int, split: str, group: int, index: int) -> int:
    """The seed of the ``index``-th scene of a class group in a split.

    Classes of one group (a time-reversed pair, a benchmark family) share
    their scenes, so that they differ only in the order of the frames.

    Args:
        seed: Base seed of the dataset.
        split: ``'train'`` or ``'val'``.
        group: The class's group.
        index: The clip's index within its class.
    """
    return seed * 10**7 + SPLIT_OFFSETS[split] + group * 10**4 + index


def write_video_dataset(out: os.PathLike,
                        meta: dict,
                        class_names: Sequence[str],
                        counts: Dict[str, int],
                        render: Callable[[int, str, int], np.ndarray],
                        progress: Optional[Callable[[int, int],
                                                    None]] = None) -> Path:
    """Writes a generated ``VideoDataset`` (skipped when the same is there).

    Args:
        out: Output folder.
        meta: What makes the dataset: kept as ``meta.json``; a folder whose
            ``meta.json`` equals it is left as it is.
        class_names: Class names; a label is an index into them.
        counts: Clips per class of each split, e.g. ``{'train': 40,
            'val': 10}``.
        render: ``render(label, split, index)`` returns the uint8 RGB
            frames [T, H, W, 3] of a clip.
        progress: Called as ``progress(done, total)``.

    Returns:
        ``out``, holding ``videos/<split>/<label>_<index>.mp4``, one
        ``<split>.txt`` list per split, ``label_map.txt`` and ``meta.json``.
    """
    out = Path(out)
    meta_file = out / 'meta.json'
    if meta_file.is_file() and json.loads(meta_file.read_text()) == meta:
        return out  # cached
    total = len(class_names) * sum(counts.values())
    done = 0
    for split, count in counts.items():
        lines = []
        for label in range(len(class_names)):
            for index in range(count):
                name = f'{split}/{label}_{index:04d}.mp4'
                write_video(out / 'videos' / name, render(label, split, index))
                lines.append(f'{name} {label}')
                done += 1
                if progress is not None:
                    progress(done, total)
        (out / f'{split}.txt').write_text('\n'.join(lines) + '\n')
    (out / 'label_map.txt').write_text('\n'.join(class_names) + '\n')
    meta_file.write_text(json.dumps(meta, indent=1))
    return out
