"""Clips/s of the recipes' data pipelines through a DataLoader.

Builds a small dataset on disk (img_mmaction.testing: 320x240 frames,
SthV1-style JPEG folders and mp4 videos), then times the SthV1 training
pipeline (rawframes) and the UCF101 training pipeline (decord) of the
recipes, with ``--workers`` DataLoader workers, batch 1 (one 8-segment clip).
Compare with the training throughput of tools/benchmark.py (clips/s =
batch / train-step time).

Usage: python tools/data_throughput.py [--workers 2] [--clips 64]
"""
import argparse
import copy
import tempfile
import time
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

import img_mmaction  # noqa: F401
from img_mmaction.testing import make_rawframe_dataset, make_video_dataset
from mmaction.registry import DATASETS
from mmaction.utils import register_all_modules

REPO = Path(__file__).resolve().parents[1]
RECIPES = {
    'rawframes (SthV1 train pipeline)': (
        'configs/img/img_imagenet-pretrained-res2net50-w26-s4_8xb4-1x1x8-50e_sthv1-rgb.py',
        'img'),
    'video, decord (UCF101 train pipeline)': (
        'configs/finetune/img_sthv1-pretrained-res2net50-w26-s4_8xb4-1x1x8-25e_ucf101-split1-rgb.py',
        'video'),
}


def clips_per_second(config: str, prefix_key: str, root: Path, ann: Path,
                     workers: int, clips: int) -> float:
    cfg = Config.fromfile(str(REPO / config))
    dataset_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    dataset_cfg.update(ann_file=str(ann), data_prefix={prefix_key: str(root)})
    dataset = DATASETS.build(dataset_cfg)
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=1, num_workers=workers, collate_fn=pseudo_collate,
        sampler=torch.utils.data.RandomSampler(dataset, replacement=True,
                                               num_samples=clips + 4))
    iterator = iter(loader)
    for _ in range(4):  # warm-up: worker start, file cache
        next(iterator)
    start = time.perf_counter()
    for _ in range(clips):
        next(iterator)
    return clips / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--clips', type=int, default=64)
    args = parser.parse_args()
    register_all_modules()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        frames, frames_ann = make_rawframe_dataset(tmp / 'raw', num_videos=8,
                                                   num_frames=48, size=240)
        videos, videos_ann = make_video_dataset(tmp / 'vid', num_videos=8,
                                                num_frames=48, size=240)
        sources = {'img': (frames, frames_ann), 'video': (videos, videos_ann)}
        print(f'| pipeline | clips/s ({args.workers} workers) |')
        print('|---|---|')
        for name, (config, key) in RECIPES.items():
            root, ann = sources[key]
            rate = clips_per_second(config, key, root, ann, args.workers,
                                    args.clips)
            print(f'| {name} | {rate:.1f} |')


if __name__ == '__main__':
    main()
