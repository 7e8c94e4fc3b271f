"""Clips/s of the recipes' data pipelines through a DataLoader.

Builds a small dataset on disk (img_mmaction.testing: ``--size`` square
frames, SthV1-style JPEG folders and mp4 videos), then times the SthV1
training pipeline (rawframes: SampleFrames(1, 1, 8), RawFrameDecode,
Resize(-1, 256), MultiScaleCrop, Resize(224), Flip, FormatShape) and the
UCF101 training pipeline (the same on decord-decoded video) of the recipes,
with ``--workers`` DataLoader workers, batch 1 (one 8-segment clip). Every
clip is checked to come out as [num_segments, 3, 224, 224].

With ``--bench-json`` (written by ``python -m benchmarks.speed --json``) it
also prints each model's training throughput (clips/s = batch /
train-step time) next to the pipelines' rates.

Usage::

    python -m benchmarks.data_throughput [--workers 2] [--clips 64]
    python -m benchmarks.speed --json bench.json
    python -m benchmarks.data_throughput --bench-json bench.json
"""
from __future__ import annotations
import argparse
import copy
import json
import tempfile
import time
from pathlib import Path
from typing import Dict, Iterator, Optional, Sequence, Tuple

import torch
from mmaction.registry import DATASETS
from mmaction.utils import register_all_modules
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

import img_mmaction  # noqa: F401
from img_mmaction.testing import make_rawframe_dataset, make_video_dataset
from img_mmaction.utils import config_path

#: name -> (recipe, data_prefix key of its dataset)
RECIPES = {
    'rawframes (SthV1 train pipeline)':
    ('img/img_imagenet-pretrained-res2net50-w26-s4_'
     '8xb4-1x1x8-50e_sthv1-rgb.py', 'img'),
    'video, decord (UCF101 train pipeline)':
    ('finetune/img_sthv1-pretrained-res2net50-w26-s4_'
     '8xb4-1x1x8-25e_ucf101-split1-rgb.py', 'video'),
}
CROP = 224
WARMUP = 4


def next_clip(iterator: Iterator[dict], expected: Tuple[int, ...],
              config: str) -> None:
    """Takes the next batch of one clip from a loader; checks its shape.

    Args:
        iterator: Over the DataLoader's batches.
        expected: The clip's shape, [T, 3, H, W].
        config: The recipe, for the message.

    Raises:
        ValueError: The clip has another shape.
    """
    inputs = next(iterator)['inputs'][0]
    if tuple(inputs.shape) != expected:
        raise ValueError(f'{config}: a clip came out as '
                         f'{tuple(inputs.shape)}, expected {expected}')


def clips_per_second(config: str, prefix_key: str, root: Path, ann: Path,
                     workers: int, clips: int) -> float:
    """Times the training pipeline of ``config`` on a local dataset.

    Args:
        config: Recipe path, relative to ``configs/``.
        prefix_key: ``data_prefix`` key of the recipe's dataset
            (``'img'`` for rawframes, ``'video'`` for videos).
        root: Folder of the frames or videos.
        ann: Annotation list.
        workers: DataLoader workers.
        clips: Clips timed, after ``WARMUP`` untimed ones.

    Returns:
        Clips per second.

    Raises:
        ValueError: A clip does not come out as [T, 3, 224, 224].
    """
    cfg = Config.fromfile(str(config_path(config)))
    expected = (cfg.model.backbone.num_segments, 3, CROP, CROP)
    dataset_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    dataset_cfg.update(ann_file=str(ann), data_prefix={prefix_key: str(root)})
    dataset = DATASETS.build(dataset_cfg)
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=1,
        num_workers=workers,
        collate_fn=pseudo_collate,
        sampler=torch.utils.data.RandomSampler(
            dataset, replacement=True, num_samples=clips + WARMUP))
    iterator = iter(loader)
    for _ in range(WARMUP):  # worker start, file cache
        next_clip(iterator, expected, config)
    start = time.perf_counter()
    for _ in range(clips):
        next_clip(iterator, expected, config)
    return clips / (time.perf_counter() - start)


def measure(workers: int = 2,
            clips: int = 64,
            videos: int = 8,
            frames: int = 48,
            size: int = 240) -> Dict[str, float]:
    """Builds the datasets and times both pipelines.

    Args:
        workers: DataLoader workers. Defaults to 2.
        clips: Clips timed per pipeline. Defaults to 64.
        videos: Videos written per dataset. Defaults to 8.
        frames: Frames per video. Defaults to 48.
        size: Frame side in pixels. Defaults to 240.

    Returns:
        ``{pipeline name: clips/s}``.
    """
    if workers < 0 or min(clips, videos, frames) < 1 or size < CROP:
        raise ValueError(f'need workers >= 0, clips, videos, frames >= 1 and'
                         f' size >= {CROP}; got {workers}, {clips}, '
                         f'{videos}, {frames}, {size}')
    register_all_modules()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sources = {
            'img':
            make_rawframe_dataset(
                tmp / 'raw', num_videos=videos, num_frames=frames, size=size),
            'video':
            make_video_dataset(
                tmp / 'vid', num_videos=videos, num_frames=frames, size=size),
        }
        return {
            name: clips_per_second(config, key, *sources[key], workers, clips)
            for name, (config, key) in RECIPES.items()
        }


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Times both pipelines; prints their rates (and the models').

    Args:
        argv: Command-line arguments. Defaults to None (``sys.argv``).
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--clips', type=int, default=64)
    parser.add_argument('--videos', type=int, default=8)
    parser.add_argument('--frames', type=int, default=48)
    parser.add_argument('--size', type=int, default=240)
    parser.add_argument(
        '--bench-json',
        default=None,
        help='JSON of benchmarks/speed.py, for the training '
        'throughput next to the data rates')
    args = parser.parse_args(argv)
    rates = measure(args.workers, args.clips, args.videos, args.frames,
                    args.size)
    print(f'| pipeline | clips/s ({args.workers} workers) |')
    print('|---|---|')
    for name, rate in rates.items():
        print(f'| {name} | {rate:.1f} |')
    if args.bench_json:
        bench = json.loads(Path(args.bench_json).read_text())
        batch = bench['args']['batch']
        slowest = min(rates.values())
        print('\n| model | training clips/s | slowest pipeline / training |')
        print('|---|---|---|')
        for name, row in bench['results'].items():
            train_rate = batch / row['train_step_s']
            print(f'| {name} | {train_rate:.2f} | '
                  f'{slowest / train_rate:.0f}x |')


if __name__ == '__main__':
    main()
