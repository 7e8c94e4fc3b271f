"""Datasets of synthetic motion clips, in MMAction2's layouts.

Every clip comes from :func:`img_mmaction.synthetic.motions.render_clip`:

* :func:`generate`: the demo's dataset, 8 order-paired classes, with
  ``train.txt`` / ``val.txt`` ``VideoDataset`` lists, ``label_map.txt`` and a
  ``meta.json`` that caches it;
* :func:`make_video_dataset`: a few mp4 clips and a ``VideoDataset`` list
  (``path label``), for tests and smoke runs;
* :func:`make_rawframe_dataset`: JPEG frame folders and a ``RawframeDataset``
  list (``frame_dir total_frames label``, frames ``{:05}.jpg`` from 1, as in
  Something-Something V1).

Command (the demo's dataset)::

    python -m img_mmaction.synthetic --out data/motion --videos-per-class 40
"""
from __future__ import annotations
import argparse
import os
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple, Union

import numpy as np

from .motions import CLASS_NAMES, render_clip
from .video_io import scene_seed, write_video, write_video_dataset


def _check_classes(num_classes: int) -> None:
    if not 1 <= num_classes <= len(CLASS_NAMES):
        raise ValueError(f'num_classes must be 1 to {len(CLASS_NAMES)}, got '
                         f'{num_classes}')


def make_video_dataset(root: os.PathLike,
                       num_videos: int = 8,
                       num_classes: int = 2,
                       num_frames: int = 16,
                       size: int = 64,
                       ann_name: str = 'ann.txt') -> Tuple[Path, Path]:
    """Writes mp4 clips and a ``VideoDataset`` annotation list.

    Args:
        root: Folder to write into.
        num_videos: Number of clips; labels cycle over the classes.
        num_classes: Number of classes (the first ones of ``CLASS_NAMES``).
            Defaults to 2.
        num_frames: Frames per clip. Defaults to 16.
        size: Frame side in pixels. Defaults to 64.
        ann_name: Name of the annotation file. Defaults to ``ann.txt``.

    Returns:
        ``(videos_dir, ann_file)``; list lines are ``name.mp4 label``.
    """
    _check_classes(num_classes)
    root = Path(root)
    videos_dir = root / 'videos'
    lines: List[str] = []
    for index in range(num_videos):
        label = index % num_classes
        name = f'clip_{index:04d}.mp4'
        write_video(videos_dir / name,
                    render_clip(label, index, num_frames, size))
        lines.append(f'{name} {label}')
    ann_file = root / ann_name
    ann_file.write_text('\n'.join(lines) + '\n')
    return videos_dir, ann_file


def make_rawframe_dataset(root: os.PathLike,
                          num_videos: int = 8,
                          num_classes: int = 2,
                          num_frames: Union[Sequence[int], int] = 16,
                          size: int = 64,
                          ann_name: str = 'ann.txt',
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
    _check_classes(num_classes)
    root = Path(root)
    frames_dir = root / 'rawframes'
    counts = ([num_frames] *
              num_videos if isinstance(num_frames, int) else list(num_frames))
    if len(counts) != num_videos:
        raise ValueError(f'num_frames has {len(counts)} entries for '
                         f'{num_videos} videos')
    lines: List[str] = []
    for index, count in enumerate(counts):
        label = index % num_classes
        video_dir = frames_dir / f'{index + 1}'
        video_dir.mkdir(parents=True, exist_ok=True)
        clip = render_clip(label, index, count, size)
        for t, frame in enumerate(clip, start=1):
            cv2.imwrite(
                str(video_dir / filename_tmpl.format(t)),
                cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        lines.append(f'{index + 1} {count} {label}')
    ann_file = root / ann_name
    ann_file.write_text('\n'.join(lines) + '\n')
    return frames_dir, ann_file


def generate(out: os.PathLike,
             videos_per_class: int = 40,
             val_per_class: int = 10,
             num_frames: int = 16,
             size: int = 64,
             seed: int = 0,
             progress: Optional[Callable[[int, int], None]] = None) -> Path:
    """Writes the demo's dataset (skipped when the same one is there).

    Args:
        out: Output folder.
        videos_per_class: Training videos per class. Defaults to 40.
        val_per_class: Validation videos per class. Defaults to 10.
        num_frames: Frames per video. Defaults to 16.
        size: Frame side in pixels. Defaults to 64.
        seed: Base seed. Defaults to 0.
        progress: Called as ``progress(done, total)``.

    Returns:
        ``out``, holding ``videos/``, ``train.txt``, ``val.txt``,
        ``label_map.txt`` and ``meta.json``.
    """
    meta = dict(
        videos_per_class=videos_per_class,
        val_per_class=val_per_class,
        num_frames=num_frames,
        size=size,
        seed=seed,
        classes=CLASS_NAMES)

    def render(label: int, split: str, index: int) -> np.ndarray:
        # A time-reversed pair (label // 2) shares its scenes.
        return render_clip(label, scene_seed(seed, split, label // 2, index),
                           num_frames, size)

    return write_video_dataset(out, meta, CLASS_NAMES,
                               dict(train=videos_per_class, val=val_per_class),
                               render, progress)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Command line entry point: writes the demo's dataset."""
    parser = argparse.ArgumentParser(
        description='Writes the demo\'s synthetic motion dataset.')
    parser.add_argument(
        '--out',
        default='demo_output/data',
        help='output folder (default: %(default)s)')
    parser.add_argument('--videos-per-class', type=int, default=40)
    parser.add_argument('--val-per-class', type=int, default=10)
    parser.add_argument('--frames', type=int, default=16)
    parser.add_argument(
        '--size',
        type=int,
        default=64,
        help='frame side in pixels (default: %(default)s)')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    out = generate(
        Path(args.out), args.videos_per_class, args.val_per_class, args.frames,
        args.size, args.seed)
    print(f'dataset ready in {out} ({len(CLASS_NAMES)} classes)')
