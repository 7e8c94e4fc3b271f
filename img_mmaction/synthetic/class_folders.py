"""Class folders of synthetic mp4s: ``root/<class name>/<video files>``.

The layout users keep their own videos in (see
``img_mmaction.datasets.video_folder``), filled with the motion clips of
:func:`img_mmaction.synthetic.render_clip`, so that the whole path from a
folder of videos to a trained and tested recipe can be tried and tested
without videos of one's own.

Command::

    python -m img_mmaction.synthetic.class_folders ROOT \
        [--classes 4] [--videos-per-class 5] [--frames 16] [--size 64]
"""
from __future__ import annotations
import argparse
import os
from pathlib import Path
from typing import List, Optional, Sequence, Union

from .motions import CLASS_NAMES, render_clip
from .video_io import write_video


def class_folder_names(num_classes: int) -> List[str]:
    """Folder names of the first ``num_classes`` motion classes.

    ``CLASS_NAMES`` with spaces replaced by ``_`` (``move right`` ->
    ``move_right``): MMAction2's lists are split at whitespace.

    Args:
        num_classes: 1 to 8.

    Raises:
        ValueError: ``num_classes`` is out of range.
    """
    if not 1 <= num_classes <= len(CLASS_NAMES):
        raise ValueError(f'num_classes must be 1 to {len(CLASS_NAMES)}, got '
                         f'{num_classes}')
    return [name.replace(' ', '_') for name in CLASS_NAMES[:num_classes]]


def make_class_folders(root: os.PathLike,
                       num_classes: int = 4,
                       videos_per_class: Union[int, Sequence[int]] = 5,
                       num_frames: int = 16,
                       size: int = 64,
                       names: Optional[Sequence[str]] = None,
                       seed: int = 0) -> List[str]:
    """Writes ``root/<class>/clip_NNNN.mp4`` motion clips.

    Args:
        root: Folder to write into (created).
        num_classes: Number of classes; class ``i`` shows motion ``i`` of
            ``CLASS_NAMES`` (1 to 8). Defaults to 4.
        videos_per_class: Clips per class, one int or one per class.
            Defaults to 5.
        num_frames: Frames per clip. Defaults to 16.
        size: Frame side in pixels. Defaults to 64.
        names: Folder names, one per class. Defaults to
            :func:`class_folder_names`.
        seed: Base seed of the scenes. Defaults to 0.

    Returns:
        The class folder names, in class order.

    Raises:
        ValueError: ``names`` or ``videos_per_class`` has the wrong length,
            or ``num_classes`` is out of range.
    """
    folders = list(names) if names is not None else class_folder_names(
        num_classes)
    counts = ([videos_per_class] * num_classes if isinstance(
        videos_per_class, int) else list(videos_per_class))
    if len(folders) != num_classes or len(counts) != num_classes:
        raise ValueError(
            f'{num_classes} classes need {num_classes} names and counts, '
            f'got {len(folders)} names and {len(counts)} counts')
    if num_classes > len(CLASS_NAMES):
        raise ValueError(f'num_classes must be 1 to {len(CLASS_NAMES)}, got '
                         f'{num_classes}')
    root = Path(root)
    for label, (folder, count) in enumerate(zip(folders, counts)):
        (root / folder).mkdir(parents=True, exist_ok=True)
        for index in range(count):
            clip = render_clip(label, seed * 10**6 + label * 10**4 + index,
                               num_frames, size)
            write_video(root / folder / f'clip_{index:04d}.mp4', clip)
    return folders


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        description='Write class folders of synthetic motion mp4s.')
    parser.add_argument('root', help='folder to write the class folders into')
    parser.add_argument('--classes', type=int, default=4)
    parser.add_argument('--videos-per-class', type=int, default=5)
    parser.add_argument('--frames', type=int, default=16)
    parser.add_argument('--size', type=int, default=64)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    folders = make_class_folders(args.root, args.classes,
                                 args.videos_per_class, args.frames, args.size,
                                 None, args.seed)
    print(f'{args.root}: {len(folders)} class folders of '
          f'{args.videos_per_class} videos ({", ".join(folders)})')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
