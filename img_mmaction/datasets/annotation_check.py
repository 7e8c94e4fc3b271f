"""Validates an MMAction2 annotation list against the files on disk.

Formats (one sample per line, whitespace separated):

* ``video``: ``path label`` (``VideoDataset``);
* ``rawframe``: ``frame_dir total_frames label`` (``RawframeDataset``,
  e.g. Something-Something V1 with ``{:05}.jpg`` frames from 1).

Checks: column count, integer labels, labels in ``[0, num_classes)``,
missing videos / frame folders, empty video files; every video is opened
with decord, its frame count read and its first and last frames decoded
(a truncated or zero-frame file is reported); for rawframes, that the
frames ``start_index .. start_index + total_frames - 1`` exist and the first
and last of them decode as images.

Command::

    python -m img_mmaction.datasets.annotation_check ANN --data-prefix DIR \
        --kind rawframe|video [--num-classes N] [--filename-tmpl '{:05}.jpg']

It prints one line per problem (``file:line: message``) and exits 1 if any.
"""
from __future__ import annotations
import argparse
import os
import sys
from dataclasses import dataclass
from typing import List, Optional, Sequence


class AnnotationError(ValueError):
    """An annotation file has problems; the message lists them by line."""


@dataclass
class Problem:
    """One problem of an annotation file."""

    ann_file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f'{self.ann_file}:{self.line}: {self.message}'


def _check_line(fields: List[str], kind: str, data_prefix: str,
                num_classes: Optional[int], filename_tmpl: str,
                start_index: int, check_files: bool) -> List[str]:
    expected = 2 if kind == 'video' else 3
    if len(fields) != expected:
        layout = ('path label'
                  if kind == 'video' else 'frame_dir total_frames label')
        return [f'expected {expected} columns ({layout}), got {len(fields)}']
    messages = []
    label_text = fields[-1]
    try:
        label = int(label_text)
    except ValueError:
        return [f'label {label_text!r} is not an integer']
    if label < 0 or (num_classes is not None and label >= num_classes):
        bound = f'[0, {num_classes})' if num_classes else '>= 0'
        messages.append(f'label {label} is out of range {bound}')
    path = os.path.join(data_prefix, fields[0])
    if kind == 'rawframe':
        try:
            total = int(fields[1])
        except ValueError:
            return messages + [
                f'total_frames {fields[1]!r} is not an '
                'integer'
            ]
        if total < 1:
            messages.append(f'total_frames is {total}')
        if check_files:
            if not os.path.isdir(path):
                messages.append(f'frame directory {path} does not exist')
            else:
                missing = [
                    i for i in range(start_index, start_index + total)
                    if not os.path.isfile(
                        os.path.join(path, filename_tmpl.format(i)))
                ]
                if missing:
                    messages.append(
                        f'{len(missing)} of {total} frames missing in '
                        f'{path} (first: {filename_tmpl.format(missing[0])})')
                elif total >= 1:
                    messages += _undecodable_frames(
                        path, filename_tmpl,
                        sorted({start_index, start_index + total - 1}))
    elif check_files:
        if not os.path.isfile(path):
            messages.append(f'video {path} does not exist')
        elif os.path.getsize(path) == 0:
            messages.append(f'video {path} is empty (0 bytes)')
        else:
            messages += _video_problems(path)
    return messages


def _undecodable_frames(folder: str, filename_tmpl: str,
                        indices: List[int]) -> List[str]:
    """Messages for the frames of ``indices`` that do not decode."""
    import cv2
    messages = []
    for index in indices:
        frame = os.path.join(folder, filename_tmpl.format(index))
        if cv2.imread(frame) is None:
            messages.append(f'frame {frame} does not decode as an image')
    return messages


def _video_problems(path: str) -> List[str]:
    """Opens a video with decord; decodes its first and last frames."""
    import decord
    try:
        reader = decord.VideoReader(path, num_threads=1)
        count = len(reader)
        if count == 0:
            return [f'video {path} has 0 frames']
        for index in sorted({0, count - 1}):
            reader[index]
    except Exception as err:  # decord raises DECORDError and others
        detail = str(err).strip().splitlines()[0] if str(err).strip() else ''
        return [
            f'video {path} cannot be decoded ({type(err).__name__}: '
            f'{detail})'
        ]
    return []


def check_annotation_file(ann_file: str,
                          data_prefix: str = '',
                          kind: str = 'video',
                          num_classes: Optional[int] = None,
                          filename_tmpl: str = '{:05}.jpg',
                          start_index: int = 1,
                          check_files: bool = True,
                          raise_on_error: bool = False) -> List[Problem]:
    """Returns the problems of an annotation file, with line numbers.

    Args:
        ann_file: The annotation list.
        data_prefix: Folder the paths are relative to.
        kind: ``'video'`` or ``'rawframe'``. Defaults to ``'video'``.
        num_classes: Labels must be below it when given.
        filename_tmpl: Frame file names (rawframes). Defaults to
            ``'{:05}.jpg'``.
        start_index: Number of the first frame (rawframes). Defaults to 1.
        check_files: Also check the files on disk. Defaults to True.
        raise_on_error: Raise :class:`AnnotationError` listing all problems
            instead of returning them. Defaults to False.

    Raises:
        ValueError: ``kind`` is unknown.
        FileNotFoundError: ``ann_file`` does not exist.
        AnnotationError: With ``raise_on_error``, when there are problems.
    """
    if kind not in ('video', 'rawframe'):
        raise ValueError(f"kind must be 'video' or 'rawframe', got {kind!r}")
    if not os.path.isfile(ann_file):
        raise FileNotFoundError(f'annotation file {ann_file} does not exist')
    problems = []
    with open(ann_file) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            for message in _check_line(line.split(), kind, data_prefix,
                                       num_classes, filename_tmpl, start_index,
                                       check_files):
                problems.append(Problem(ann_file, number, message))
    if problems and raise_on_error:
        shown = '\n'.join(str(p) for p in problems[:20])
        more = (f'\n... and {len(problems) - 20} more'
                if len(problems) > 20 else '')
        raise AnnotationError(f'{len(problems)} problem(s) in {ann_file}:\n'
                              f'{shown}{more}')
    return problems


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        description='Check an MMAction2 annotation list against the disk.')
    parser.add_argument('ann_file')
    parser.add_argument('--data-prefix', default='')
    parser.add_argument(
        '--kind', choices=('video', 'rawframe'), default='video')
    parser.add_argument('--num-classes', type=int, default=None)
    parser.add_argument('--filename-tmpl', default='{:05}.jpg')
    parser.add_argument('--start-index', type=int, default=1)
    args = parser.parse_args(argv)
    problems = check_annotation_file(args.ann_file, args.data_prefix,
                                     args.kind, args.num_classes,
                                     args.filename_tmpl, args.start_index)
    for problem in problems:
        print(problem)
    print(f'{args.ann_file}: {len(problems)} problem(s)')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
