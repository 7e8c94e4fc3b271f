"""Small real datasets for tests and smoke runs: mp4 videos and rawframes.

Everything here writes real files in MMAction2's layouts: mp4 videos encoded
by OpenCV (fourcc ``mp4v``, which decord reads) with a ``VideoDataset`` list
(``path label``), and JPEG frame folders with a ``RawframeDataset`` list
(``frame_dir total_frames label``, frames ``{:05}.jpg`` from 1 as in
Something-Something V1).

Each class moves a bright square in its own direction over a noisy
background, so the clips are also learnable by a small model.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import List, Sequence, Tuple

import numpy as np

#: (dy, dx) direction of motion per class; cycles for more classes.
_DIRECTIONS: Tuple[Tuple[int, int], ...] = (
    (0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, -1), (1, -1), (-1, 1))


def write_video(path: os.PathLike, frames: np.ndarray, fps: int = 10) -> None:
    """Writes RGB frames to an mp4 file that decord can read.

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
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (width, height))
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV cannot write an mp4v video to {path}')
    try:
        for frame in frames:
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()


def moving_square_clip(label: int, num_frames: int = 16, size: int = 64,
                       seed: int = 0) -> np.ndarray:
    """Renders a square moving in the direction of ``label``.

    Args:
        label: Class index; selects the direction of motion.
        num_frames: Number of frames T. Defaults to 16.
        size: Frame height and width. Defaults to 64.
        seed: Seed of the background noise and start position.

    Returns:
        uint8 array of shape [T, size, size, 3].
    """
    rng = np.random.default_rng(seed)
    dy, dx = _DIRECTIONS[label % len(_DIRECTIONS)]
    side = max(size // 6, 2)
    step = max((size - side) // (2 * num_frames), 1)
    start = size // 2 - side // 2
    background = rng.integers(0, 60, (size, size, 3), dtype=np.uint8)
    frames = np.repeat(background[None], num_frames, axis=0)
    for t in range(num_frames):
        y = int(np.clip(start + dy * step * t, 0, size - side))
        x = int(np.clip(start + dx * step * t, 0, size - side))
        frames[t, y:y + side, x:x + side] = (230, 200, 40)
    return frames


def make_video_dataset(root: os.PathLike, num_videos: int = 8,
                       num_classes: int = 2, num_frames: int = 16,
                       size: int = 64, ann_name: str = 'ann.txt'
                       ) -> Tuple[Path, Path]:
    """Writes mp4 clips and a ``VideoDataset`` annotation list.

    Args:
        root: Folder to write into.
        num_videos: Number of clips; labels cycle over the classes.
        num_classes: Number of classes. Defaults to 2.
        num_frames: Frames per clip. Defaults to 16.
        size: Frame side in pixels. Defaults to 64.
        ann_name: Name of the annotation file. Defaults to ``ann.txt``.

    Returns:
        ``(videos_dir, ann_file)``; list lines are ``name.mp4 label``.
    """
    root = Path(root)
    videos_dir = root / 'videos'
    lines: List[str] = []
    for index in range(num_videos):
        label = index % num_classes
        name = f'clip_{index:04d}.mp4'
        write_video(videos_dir / name,
                    moving_square_clip(label, num_frames, size, seed=index))
        lines.append(f'{name} {label}')
    ann_file = root / ann_name
    ann_file.write_text('\n'.join(lines) + '\n')
    return videos_dir, ann_file


def make_rawframe_dataset(root: os.PathLike, num_videos: int = 8,
                          num_classes: int = 2,
                          num_frames: Sequence[int] | int = 16,
                          size: int = 64, ann_name: str = 'ann.txt',
                          filename_tmpl: str = '{:05}.jpg'
                          ) -> Tuple[Path, Path]:
    """Writes JPEG frame folders and a ``RawframeDataset`` annotation list.

    The layout is Something-Something V1's: ``<frame_dir>/00001.jpg`` ...,
    list lines ``frame_dir total_frames label``.

    Args:
        root: Folder to write into.
        num_videos: Number of frame folders; labels cycle over the classes.
        num_classes: Number of classes. Defaults to 2.
        num_frames: Frames per video, one int or one per video.
        size: Frame side in pixels. Defaults to 64.
        ann_name: Name of the annotation file. Defaults to ``ann.txt``.
        filename_tmpl: Frame file name template, numbered from 1.

    Returns:
        ``(frames_dir, ann_file)``.
    """
    import cv2
    root = Path(root)
    frames_dir = root / 'rawframes'
    counts = ([num_frames] * num_videos if isinstance(num_frames, int)
              else list(num_frames))
    if len(counts) != num_videos:
        raise ValueError(f'num_frames has {len(counts)} entries for '
                         f'{num_videos} videos')
    lines: List[str] = []
    for index, count in enumerate(counts):
        label = index % num_classes
        video_dir = frames_dir / f'{index + 1}'
        video_dir.mkdir(parents=True, exist_ok=True)
        clip = moving_square_clip(label, count, size, seed=index)
        for t, frame in enumerate(clip, start=1):
            cv2.imwrite(str(video_dir / filename_tmpl.format(t)),
                        cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        lines.append(f'{index + 1} {count} {label}')
    ann_file = root / ann_name
    ann_file.write_text('\n'.join(lines) + '\n')
    return frames_dir, ann_file
