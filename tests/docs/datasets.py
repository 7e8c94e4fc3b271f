"""Tiny stand-ins of the real datasets, in their owners' layouts.

What docs/data_preparation.md's commands expect to find after the
downloads: Something-Something V1's frame folders and annotation CSVs, and
UCF101's videos in class folders with ``classInd.txt`` and the split
lists. The frames and videos are the synthetic motion clips; the names and
formats are the owners'.
"""
from pathlib import Path

import cv2

from img_mmaction.synthetic import render_clip, write_video

STHV1_LABELS = ('Pushing something from left to right',
                'Pushing something from right to left')
UCF101_CLASSES = ('ApplyEyeMakeup', 'Archery')


def write_sthv1(root: Path, frames: int = 8) -> None:
    """``root/sthv1/rawframes/<id>/00001.jpg`` and ``annotations/*.csv``."""
    annotations = root / 'sthv1' / 'annotations'
    annotations.mkdir(parents=True)
    (annotations /
     'something-something-v1-labels.csv').write_text('\n'.join(STHV1_LABELS) +
                                                     '\n')
    rows = {'train': [], 'validation': [], 'test': []}
    splits = ('train', 'train', 'validation', 'validation', 'test')
    for index, split in enumerate(splits):
        video_id = str(1000 + index)
        folder = root / 'sthv1' / 'rawframes' / video_id
        folder.mkdir(parents=True)
        for number, frame in enumerate(
                render_clip(index % 2, index, frames, 64), 1):
            cv2.imwrite(
                str(folder / f'{number:05d}.jpg'),
                cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        label = STHV1_LABELS[index % 2]
        rows[split].append(video_id if split ==
                           'test' else f'{video_id};{label}')
    for split, lines in rows.items():
        (annotations /
         f'something-something-v1-{split}.csv').write_text('\n'.join(lines) +
                                                           '\n')


def write_ucf101(root: Path, frames: int = 8) -> None:
    """``root/ucf101/videos/<Class>/<video>.avi`` and the split lists."""
    annotations = root / 'ucf101' / 'annotations'
    annotations.mkdir(parents=True)
    (annotations / 'classInd.txt').write_text(''.join(
        f'{index + 1} {name}\n' for index, name in enumerate(UCF101_CLASSES)))
    groups = {1: [], 2: []}
    for label, name in enumerate(UCF101_CLASSES):
        for group in groups:
            video = f'{name}/v_{name}_g{group:02d}_c01.avi'
            path = root / 'ucf101' / 'videos' / video
            path.parent.mkdir(parents=True, exist_ok=True)
            write_video(path, render_clip(label, group, frames, 64))
            groups[group].append((video, label))
    for split in (1, 2, 3):
        (annotations / f'trainlist{split:02d}.txt').write_text(''.join(
            f'{video} {label + 1}\n' for video, label in groups[1]))
        (annotations / f'testlist{split:02d}.txt').write_text(''.join(
            f'{video}\n' for video, _ in groups[2]))
