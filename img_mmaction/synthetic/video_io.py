"""Writes frames as mp4 files that decord reads."""
from __future__ import annotations
import os
from pathlib import Path

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
