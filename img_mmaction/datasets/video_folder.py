"""Your own videos: a folder of class subfolders becomes a dataset and recipe.

``ROOT/<class name>/<video files>`` is turned into what MMAction2 trains on:

* ``label_map.txt``: the class names, one a line; label ``i`` is line ``i``,
  the class folders in sorted order (Python's string order, i.e. by code
  point: ``B`` before ``a``);
* ``train.txt`` / ``val.txt``: ``VideoDataset`` lists, ``class/video label``
  (paths relative to ``ROOT``), split per class (stratified): each class
  puts ``round(n * val_fraction)`` of its ``n`` videos (halves rounded up,
  at least 1, at most ``n - 1``) in ``val.txt``, drawn with a generator
  seeded by ``seed`` and the class name, so that the split is the same on
  every run and machine and one class's draw does not depend on the others;
* a recipe that fine-tunes IMG on them (``val.txt`` is its validation and
  its test list): the tiny IMG Res2Net from scratch (default, trainable on
  a CPU in minutes) or IMG Res2Net-50 from the ImageNet weights file.

Every video is opened with decord and its first and last frames decoded
(:func:`img_mmaction.datasets.annotation_check.check_annotation_file`);
an unreadable video is an error naming it, or, with ``skip_unreadable``,
left out and listed in ``unreadable.txt``.

Command::

    python -m img_mmaction.datasets.video_folder ROOT --out DIR \
        [--val-fraction 0.2] [--seed 0] [--skip-unreadable] \
        [--backbone res2net-tiny|res2net50] [--pretrained FILE]
"""
from __future__ import annotations
import argparse
import math
import os
import random
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from .annotation_check import check_annotation_file

#: File suffixes taken as videos (any letter case); decord (FFmpeg) reads
#: them. Hidden files and folders (names starting with ``.``) are ignored.
VIDEO_SUFFIXES: Tuple[str, ...] = ('.3gp', '.avi', '.flv', '.m4v', '.mkv',
                                   '.mov', '.mp4', '.mpeg', '.mpg', '.ogv',
                                   '.ts', '.webm', '.wmv')
#: The recipes :func:`build_video_folder` writes.
BACKBONES: Tuple[str, ...] = ('res2net-tiny', 'res2net50')
#: Training epochs of each recipe (its schedule's length).
EPOCHS: Dict[str, int] = {'res2net-tiny': 12, 'res2net50': 50}
#: Videos a class needs: one in each split.
MIN_VIDEOS_PER_CLASS = 2

#: A split: ``(path relative to ROOT, label)`` per video.
Split = List[Tuple[str, int]]
#: ``(path relative to ROOT, problem)`` per unreadable video.
Unreadable = List[Tuple[str, str]]


class VideoFolderError(ValueError):
    """The folder, a file in it, or an argument cannot make a dataset."""


@dataclass
class VideoFolderResult:
    """What :func:`build_video_folder` wrote.

    Attributes:
        classes: Class names; label ``i`` is ``classes[i]``.
        train_list: ``train.txt``.
        val_list: ``val.txt`` (validation and test list of the recipe).
        label_map: ``label_map.txt``.
        recipe: The recipe.
        num_train: Videos in ``train.txt``.
        num_val: Videos in ``val.txt``.
        skipped: Unreadable videos left out (paths relative to the root).
    """

    classes: List[str]
    train_list: Path
    val_list: Path
    label_map: Path
    recipe: Path
    num_train: int
    num_val: int
    skipped: List[str] = field(default_factory=list)


def _hidden(name: str) -> bool:
    return name.startswith('.')


def _no_whitespace(path: Path) -> Optional[str]:
    if re.search(r'\s', path.name):
        return f'{path} (whitespace in its name)'
    return None


def scan_video_folder(root: os.PathLike) -> Dict[str, List[str]]:
    """Lists the videos of every class folder of ``root``.

    Args:
        root: ``root/<class name>/<video files>``.

    Returns:
        ``{class name: sorted video file names}``, classes sorted.

    Raises:
        VideoFolderError: ``root`` is missing or not a folder, holds files
            beside its class folders, fewer than two class folders, a class
            folder holds a folder, a file without a video suffix
            (:data:`VIDEO_SUFFIXES`) or no video, or a name has whitespace
            (MMAction2's lists are split at whitespace). The message names
            every offending path.
    """
    root = Path(root)
    if not root.exists():
        raise VideoFolderError(f'video folder {root} does not exist')
    if not root.is_dir():
        raise VideoFolderError(f'video folder {root} is not a folder')
    entries = sorted(p for p in root.iterdir() if not _hidden(p.name))
    class_dirs = [p for p in entries if p.is_dir()]
    problems: List[str] = [
        f'{p} is a file beside the class folders; {root} must hold only '
        'class folders (ROOT/<class name>/<video files>)' for p in entries
        if not p.is_dir()
    ]
    if not class_dirs:
        raise VideoFolderError(
            f'{root} holds no class folders; expected ROOT/<class name>/'
            '<video files>')
    if len(class_dirs) == 1:
        raise VideoFolderError(
            f'{root} holds only one class folder ({class_dirs[0]}); a '
            'classifier needs at least 2 classes')
    videos: Dict[str, List[str]] = {}
    for class_dir in class_dirs:
        bad_name = _no_whitespace(class_dir)
        if bad_name:
            problems.append(f'class folder {bad_name}')
        files = sorted(p for p in class_dir.iterdir() if not _hidden(p.name))
        for path in files:
            if path.is_dir():
                problems.append(f'{path} is a folder; videos must lie '
                                f'directly in {class_dir}')
            elif path.suffix.lower() not in VIDEO_SUFFIXES:
                problems.append(f'{path} is not a video (suffix '
                                f'{path.suffix or "none"!r})')
            else:
                bad_name = _no_whitespace(path)
                if bad_name:
                    problems.append(f'video {bad_name}')
        names = [
            p.name for p in files
            if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES
        ]
        if not names:
            problems.append(f'class folder {class_dir} holds no videos')
        videos[class_dir.name] = names
    if problems:
        raise VideoFolderError(f'{len(problems)} problem(s) in {root}:\n  ' +
                               '\n  '.join(problems) +
                               '\nvideos are the files ending in ' +
                               ', '.join(VIDEO_SUFFIXES) +
                               ' (any case); names must not hold '
                               'whitespace (rename, e.g. spaces to _)')
    return videos


def _check_fraction(val_fraction: float) -> None:
    if not 0.0 < val_fraction < 1.0:
        raise VideoFolderError(
            f'--val-fraction must be between 0 and 1 (exclusive), got '
            f'{val_fraction}')


def num_val_videos(count: int, val_fraction: float) -> int:
    """Videos of a class of ``count`` that go to the validation split.

    ``round(count * val_fraction)``, halves rounded up, then clipped to
    ``[1, count - 1]`` so that both splits hold the class.

    Args:
        count: Videos of the class (at least 2).
        val_fraction: In ``(0, 1)``.

    Raises:
        VideoFolderError: ``count`` is below 2 or ``val_fraction`` is out of
            range.
    """
    _check_fraction(val_fraction)
    if count < MIN_VIDEOS_PER_CLASS:
        raise VideoFolderError(
            f'a class of {count} video(s) cannot be in both splits')
    return min(count - 1, max(1, math.floor(count * val_fraction + 0.5)))


def stratified_split(videos: Dict[str, List[str]], val_fraction: float,
                     seed: int) -> Tuple[Split, Split]:
    """Splits every class into train and val, reproducibly.

    Labels are the positions of the classes in sorted order. A class's
    videos are sorted, shuffled by ``random.Random(f'{seed}/{class}')``, and
    the first :func:`num_val_videos` of them go to val.

    Args:
        videos: ``{class name: video file names}``.
        val_fraction: Share of each class for val, in ``(0, 1)``.
        seed: Seed of the draw.

    Returns:
        ``(train, val)``: ``(class/file, label)`` pairs, sorted by label,
        then path.

    Raises:
        VideoFolderError: ``val_fraction`` is out of range, or a class has
            fewer than 2 videos.
    """
    _check_fraction(val_fraction)
    train: Split = []
    val: Split = []
    for label, name in enumerate(sorted(videos)):
        files = sorted(videos[name])
        shuffled = list(files)
        random.Random(f'{seed}/{name}').shuffle(shuffled)
        chosen = set(shuffled[:num_val_videos(len(files), val_fraction)])
        for file in files:
            (val if file in chosen else train).append(
                (f'{name}/{file}', label))
    return train, val


def _unreadable(root: Path, videos: Dict[str, List[str]]) -> Unreadable:
    """``(path, message)`` of each video decord cannot read."""
    paths = [
        f'{name}/{file}' for name in sorted(videos) for file in videos[name]
    ]
    with tempfile.TemporaryDirectory() as folder:
        listing = Path(folder) / 'all_videos.txt'
        listing.write_text(''.join(f'{path} 0\n' for path in paths))
        problems = check_annotation_file(
            str(listing), str(root), kind='video', check_files=True)
    return [(paths[p.line - 1], p.message) for p in problems]


def _check_counts(root: Path, videos: Dict[str, List[str]],
                  skipped: Sequence[str]) -> None:
    few = []
    for name in sorted(videos):
        count = len(videos[name])
        if count < MIN_VIDEOS_PER_CLASS:
            lost = sum(1 for s in skipped if s.split('/')[0] == name)
            note = f' after leaving out {lost} unreadable' if lost else ''
            few.append(f'class folder {root / name} holds {count} '
                       f'video{"" if count == 1 else "s"}{note}')
    if few:
        raise VideoFolderError(
            '\n'.join(few) + f'\neach class needs at least '
            f'{MIN_VIDEOS_PER_CLASS} videos, one for train.txt and one for '
            'val.txt')


def _recipe_name(backbone: str, root: Path) -> str:
    dataset = re.sub(r'[^A-Za-z0-9_-]+', '-', root.resolve().name) or 'videos'
    return f'img_{backbone}_{dataset}.py'


@dataclass(frozen=True)
class _BackboneRecipe:
    """What the backbone chooses in a recipe.

    Attributes:
        bases: The recipe's ``_base_`` entries: model, schedule, runtime.
        model: The ``model = ...`` lines.
        short_side: Frames are resized to this short side.
        crop: Side of the square crop.
        batch: Clips per batch.
        workers: Data loader workers.
        train_crop: The training pipeline's crop step(s), as recipe text.
    """

    bases: List[str]
    model: str
    short_side: int
    crop: int
    batch: int
    workers: int
    train_crop: str


def _base(relative: str) -> str:
    """A packaged base recipe by its ``img_mmaction::`` scope."""
    return f'img_mmaction::_base_/{relative}'


def _tiny_recipe() -> _BackboneRecipe:
    """The tiny IMG Res2Net from scratch: 56x56 crops, AdamW, 12 epochs."""
    crop = 56
    return _BackboneRecipe(
        bases=[
            _base('models/img_res2net-tiny.py'),
            _base('schedules/adamw_12e.py'),
            _base('default_runtime.py')
        ],
        model='model = dict(cls_head=dict(num_classes=num_classes))\n',
        short_side=64,
        crop=crop,
        batch=8,
        workers=1,
        train_crop=f"dict(type='RandomCrop', size={crop}),")


def _res2net50_recipe(pretrained: Optional[str]) -> _BackboneRecipe:
    """IMG Res2Net-50 from ImageNet weights: 224x224, the paper's SGD."""
    crop = 224
    return _BackboneRecipe(
        bases=[
            _base('models/img_res2net50.py'),
            _base('schedules/sgd_tsm-policy_50e.py'),
            _base('default_runtime.py')
        ],
        model=('model = dict(\n'
               f'    backbone=dict(pretrained={str(pretrained)!r}),\n'
               '    cls_head=dict(num_classes=num_classes))\n'),
        short_side=256,
        crop=crop,
        batch=4,
        workers=4,
        train_crop=("dict(\n        type='MultiScaleCrop',\n"
                    f'        input_size={crop},\n'
                    '        scales=(1, 0.875, 0.75, 0.66),\n'
                    '        random_crop=False,\n'
                    '        max_wh_scale_gap=1,\n'
                    '        num_fixed_crops=13),\n'
                    f'    dict(type=\'Resize\', scale=({crop}, {crop}), '
                    'keep_ratio=False),'))


def _backbone_recipe(backbone: str,
                     pretrained: Optional[str]) -> _BackboneRecipe:
    """The tiny recipe for ``'res2net-tiny'``, else the Res2Net-50 one."""
    if backbone == 'res2net-tiny':
        return _tiny_recipe()
    return _res2net50_recipe(pretrained)


def _header_section(note: str, bases: Sequence[str]) -> str:
    """The note as comments, the explanation, and the ``_base_`` list."""
    head = ''.join(f'# {line}\n' for line in note.splitlines())
    return f"""{head}#
# Bases: the plugin's packaged recipes, by their img_mmaction:: scope (run
# this recipe with mim train img_mmaction, whose train.py imports the plugin
# first): the model, the schedule and the IMG runtime, which is MMAction2's
# default runtime plus the plugin base _base_/img_plugin.py (custom_imports,
# RobustRunner, StrictCheckpointHook, BrokenSampleHook, EpochSeedHook).
# No horizontal flip: it would change classes such as "move left". Add
# dict(type='Flip', flip_ratio=0.5) to train_pipeline after the crop if
# mirroring keeps every class.
_base_ = [
{''.join(f'    {b!r},{chr(10)}' for b in bases)}]
"""


def _dataset_section(classes: Sequence[str], data_root: os.PathLike,
                     train_list: os.PathLike, val_list: os.PathLike) -> str:
    """The classes, the data root and the two lists."""
    return f"""num_classes = {len(classes)}
classes = {list(classes)!r}
data_root = {str(data_root)!r}
ann_file_train = {str(train_list)!r}
ann_file_val = {str(val_list)!r}
"""


def _pipeline_section(choice: _BackboneRecipe) -> str:
    """The train, val and test pipelines (8 frames, the backbone's crop)."""
    return f"""train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=8),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, {choice.short_side})),
    {choice.train_crop}
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(
        type='SampleFrames',
        clip_len=1,
        frame_interval=1,
        num_clips=8,
        test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, {choice.short_side})),
    dict(type='CenterCrop', crop_size={choice.crop}),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = val_pipeline
"""


def _loop_section(choice: _BackboneRecipe) -> str:
    """The data loaders, the evaluators, the checkpoint hook and the seed."""
    return f"""train_dataloader = dict(
    batch_size={choice.batch},
    num_workers={choice.workers},
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='RobustVideoDataset',
        ann_file=ann_file_train,
        data_prefix=dict(video=data_root),
        num_classes=num_classes,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size={choice.batch},
    num_workers={choice.workers},
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='RobustVideoDataset',
        ann_file=ann_file_val,
        data_prefix=dict(video=data_root),
        num_classes=num_classes,
        pipeline=val_pipeline,
        test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='AccMetric', metric_list=('top_k_accuracy', 'mean_class_accuracy'))
test_evaluator = val_evaluator

# val.txt is also the test list: keep the last checkpoint rather than the one
# best on it.
default_hooks = dict(
    checkpoint=dict(interval=1, max_keep_ckpts=1, save_best=None))
randomness = dict(seed=0)
"""


def _recipe_text(classes: Sequence[str], data_root: os.PathLike,
                 train_list: os.PathLike, val_list: os.PathLike, backbone: str,
                 pretrained: Optional[str], note: str) -> str:
    """The recipe's text: its sections, one blank line apart.

    Args:
        classes: Class names (their number sets the classifier).
        data_root: The folder the list paths are relative to.
        train_list: The training list.
        val_list: The validation and test list.
        backbone: ``'res2net-tiny'``; any other name gives the Res2Net-50
            recipe (:func:`build_video_folder` checks the name).
        pretrained: The ImageNet weights file (``res2net50`` only).
        note: Comment lines for the head of the file.

    Returns:
        The text :func:`write_recipe` writes.
    """
    choice = _backbone_recipe(backbone, pretrained)
    sections = [
        _header_section(note, choice.bases),
        _dataset_section(classes, data_root, train_list, val_list),
        choice.model,
        _pipeline_section(choice),
        _loop_section(choice),
    ]
    return '\n'.join(sections)


def write_recipe(path: os.PathLike,
                 classes: Sequence[str],
                 data_root: os.PathLike,
                 train_list: os.PathLike,
                 val_list: os.PathLike,
                 backbone: str = 'res2net-tiny',
                 pretrained: Optional[str] = None,
                 note: str = '') -> Path:
    """Writes a recipe that fine-tunes IMG on a ``VideoDataset``.

    Its bases are the plugin's own, by absolute path (see
    :func:`img_mmaction.utils.config_path`): the model, the schedule, and
    the IMG runtime, which holds the plugin base ``_base_/img_plugin.py``
    (``custom_imports``, ``RobustRunner``, the strict checkpoint, broken
    sample and epoch seed hooks) on top of MMAction2's default runtime.
    Paths in it are absolute, so ``mim`` runs it from any folder.

    Args:
        path: The recipe file.
        classes: Class names (their number sets the classifier).
        data_root: The folder the list paths are relative to.
        train_list: The training list.
        val_list: The validation and test list.
        backbone: ``'res2net-tiny'`` (from scratch, 56x56 crops, AdamW, 12
            epochs) or ``'res2net50'`` (ImageNet weights, 224x224 crops, the
            paper's SGD schedule and TSM/TEA parameter groups). Defaults to
            ``'res2net-tiny'``.
        pretrained: The ImageNet weights file (``res2net50`` only).
        note: Comment lines for the head of the file.

    Returns:
        ``path``.
    """
    path = Path(path)
    path.write_text(
        _recipe_text(classes, data_root, train_list, val_list, backbone,
                     pretrained, note))
    return path


def _checked_pretrained(backbone: str,
                        pretrained: Optional[str]) -> Optional[str]:
    """``pretrained`` for ``backbone``, as an absolute path (or None).

    Raises:
        VideoFolderError: An unknown backbone; ``res2net50`` without an
            existing file; weights given for the tiny backbone.
    """
    if backbone not in BACKBONES:
        raise VideoFolderError(f'--backbone {backbone!r} is not one of '
                               f'{", ".join(BACKBONES)}')
    if backbone == 'res2net50':
        if pretrained is None:
            raise VideoFolderError(
                '--backbone res2net50 needs --pretrained FILE, the ImageNet '
                'Res2Net-50 26w_4s weights (res2net50_26w_4s-06e79181.pth, '
                'docs/data_preparation.md)')
        if not Path(pretrained).is_file():
            raise VideoFolderError(f'--pretrained {pretrained} does not exist')
        return str(Path(pretrained).resolve())
    if pretrained is not None:
        raise VideoFolderError(
            f'--pretrained {pretrained}: the tiny IMG (--backbone '
            'res2net-tiny) trains from scratch; ImageNet weights fit '
            '--backbone res2net50')
    return None


def _check_out_folder(root: Path, out: Path) -> Path:
    """``root`` resolved, once ``out`` is known to lie outside it.

    Raises:
        VideoFolderError: ``out`` is ``root`` or inside it.
    """
    root_abs, out_abs = root.resolve(), out.resolve()
    if out_abs == root_abs or root_abs in out_abs.parents:
        raise VideoFolderError(
            f'--out {out} lies inside the video folder {root}; its files '
            'would be read as a class next time: choose a folder outside')
    return root_abs


def _leave_out_unreadable(root: Path, videos: Dict[str, List[str]],
                          skip_unreadable: bool) -> Unreadable:
    """The videos decord cannot read, taken out of ``videos`` (in place).

    Returns:
        ``(class/file, decord's message)`` of each.

    Raises:
        VideoFolderError: Some are unreadable and ``skip_unreadable`` is
            False; a class is left with fewer than 2 videos.
    """
    unreadable = _unreadable(root, videos)
    skipped = [path for path, _ in unreadable]
    if unreadable and not skip_unreadable:
        total = sum(len(files) for files in videos.values())
        raise VideoFolderError(
            f'{len(unreadable)} of {total} videos in {root} cannot be read '
            'by decord:\n  ' + '\n  '.join(m for _, m in unreadable) +
            '\nreplace or remove them, or pass --skip-unreadable to leave '
            'them out (they are then listed in unreadable.txt)')
    for path in skipped:
        name, file = path.split('/', 1)
        videos[name].remove(file)
    _check_counts(root, videos, skipped)
    return unreadable


def _write_lists(out: Path, train: Split, val: Split, classes: Sequence[str],
                 unreadable: Unreadable) -> Tuple[Path, Path, Path]:
    """Writes ``train.txt``, ``val.txt``, ``label_map.txt`` and (when
    videos were left out) ``unreadable.txt`` into ``out`` (created); a
    stale ``unreadable.txt`` is removed.

    Returns:
        The train list, the val list and the label map.
    """
    out.mkdir(parents=True, exist_ok=True)
    train_list, val_list = out / 'train.txt', out / 'val.txt'
    label_map = out / 'label_map.txt'
    train_list.write_text(''.join(f'{p} {label}\n' for p, label in train))
    val_list.write_text(''.join(f'{p} {label}\n' for p, label in val))
    label_map.write_text(''.join(f'{name}\n' for name in classes))
    skipped_list = out / 'unreadable.txt'
    if unreadable:
        skipped_list.write_text(''.join(f'{path}\t{message}\n'
                                        for path, message in unreadable))
    elif skipped_list.exists():
        skipped_list.unlink()
    return train_list, val_list, label_map


def build_video_folder(root: os.PathLike,
                       out: os.PathLike,
                       val_fraction: float = 0.2,
                       seed: int = 0,
                       backbone: str = 'res2net-tiny',
                       pretrained: Optional[str] = None,
                       skip_unreadable: bool = False) -> VideoFolderResult:
    """Writes lists, a label map and a recipe for a folder of class folders.

    Args:
        root: ``root/<class name>/<video files>``.
        out: Output folder (created); it must not lie inside ``root``.
        val_fraction: Share of each class for ``val.txt``, in ``(0, 1)``.
            Defaults to 0.2.
        seed: Seed of the split. Defaults to 0.
        backbone: ``'res2net-tiny'`` or ``'res2net50'``. Defaults to
            ``'res2net-tiny'``.
        pretrained: ImageNet Res2Net-50 26w_4s weights (required with
            ``res2net50``; see ``img_mmaction/models/pretrained.py``).
        skip_unreadable: Leave videos decord cannot read out (listed in
            ``unreadable.txt``) instead of refusing. Defaults to False.

    Returns:
        What was written.

    Raises:
        VideoFolderError: Any refusal of :func:`scan_video_folder`, an
            unreadable video (without ``skip_unreadable``), a class with
            fewer than 2 readable videos, ``out`` inside ``root``, a bad
            ``val_fraction``, ``backbone`` or ``pretrained``.
    """
    root, out = Path(root), Path(out)
    _check_fraction(val_fraction)
    pretrained = _checked_pretrained(backbone, pretrained)
    root_abs = _check_out_folder(root, out)
    videos = scan_video_folder(root)
    _check_counts(root, videos, [])
    unreadable = _leave_out_unreadable(root, videos, skip_unreadable)
    skipped = [path for path, _ in unreadable]
    train, val = stratified_split(videos, val_fraction, seed)
    classes = sorted(videos)
    train_list, val_list, label_map = _write_lists(out, train, val, classes,
                                                   unreadable)
    note = (f'Written by `python -m img_mmaction.datasets.video_folder` for '
            f'{root_abs}:\n{len(classes)} classes, {len(train)} train and '
            f'{len(val)} val videos (val fraction {val_fraction}, seed '
            f'{seed}); labels in {label_map.resolve()}.')
    recipe = write_recipe(out / _recipe_name(backbone, root),
                          classes, root_abs, train_list.resolve(),
                          val_list.resolve(), backbone, pretrained, note)
    return VideoFolderResult(classes, train_list, val_list, label_map, recipe,
                             len(train), len(val), skipped)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point; returns the exit status (1 on a refusal)."""
    parser = argparse.ArgumentParser(
        description='Turn ROOT/<class name>/<video files> into MMAction2 '
        'lists, a label map and an IMG recipe.')
    parser.add_argument('root', help='folder of class folders of videos')
    parser.add_argument(
        '--out', required=True, help='output folder (outside ROOT)')
    parser.add_argument(
        '--val-fraction',
        type=float,
        default=0.2,
        help='share of each class for val.txt (default: %(default)s)')
    parser.add_argument(
        '--seed',
        type=int,
        default=0,
        help='seed of the split (default: %(default)s)')
    parser.add_argument(
        '--backbone',
        default='res2net-tiny',
        help='res2net-tiny (from scratch) or res2net50 (ImageNet weights) '
        '(default: %(default)s)')
    parser.add_argument(
        '--pretrained',
        default=None,
        help='ImageNet Res2Net-50 26w_4s weights (--backbone res2net50)')
    parser.add_argument(
        '--skip-unreadable',
        action='store_true',
        help='leave videos decord cannot read out, listed in '
        'unreadable.txt, instead of stopping')
    args = parser.parse_args(argv)
    try:
        result = build_video_folder(args.root, args.out, args.val_fraction,
                                    args.seed, args.backbone, args.pretrained,
                                    args.skip_unreadable)
    except VideoFolderError as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    for path in result.skipped:
        print(f'skipped unreadable video: {path}')
    print(f'classes: {len(result.classes)} ({", ".join(result.classes)})')
    print(f'train: {result.num_train} videos, val: {result.num_val} videos')
    for path in (result.train_list, result.val_list, result.label_map,
                 result.recipe):
        print(f'wrote {path}')
    work = f'work_dirs/{result.recipe.stem}'
    print(f'train it: mim train img_mmaction {result.recipe} --work-dir '
          f'{work}')
    print(f'test it:  mim test img_mmaction {result.recipe} --checkpoint '
          f'{work}/epoch_{EPOCHS[args.backbone]}.pth')
    return 0


if __name__ == '__main__':
    sys.exit(main())
