"""The online recipes (OURS): causal model, dense sampling."""
from pathlib import Path

import numpy as np
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.dataset import Compose

from img_mmaction.models import StreamingRecognizer
from img_mmaction.testing import make_video_dataset
from img_mmaction.utils import config_path

STRIDE_2 = 'online/img-causal_res2net-tiny_1xb8-8x2x1-12e_motion-demo-rgb.py'
STRIDE_1 = 'online/img-causal_res2net-tiny_1xb8-8x1x1-12e_motion-demo-rgb.py'
BENCH = 'online/img-causal_res2net-tiny_1xb8-8x2x1-8e_motion-bench-rgb.py'
EVIDENCE_IMG = 'evidence/img_res2net-tiny_1xb8-1x1x8-8e_motion-bench-rgb.py'


def sampled(pipeline: list, video: Path) -> np.ndarray:
    """Frame indices the pipeline's init and sampling steps pick."""
    steps = Compose(pipeline[:2])
    return steps(dict(filename=str(video), start_index=0,
                      modality='RGB'))['frame_inds']


def test_online_recipes_sample_consecutive_frames_at_their_stride(
        tmp_path: Path) -> None:
    videos, _ = make_video_dataset(tmp_path, num_videos=1)  # 16 frames
    video = videos / 'clip_0000.mp4'
    stride_2 = Config.fromfile(str(config_path(STRIDE_2)))
    every_other = list(range(0, 16, 2))
    for loader in ('train_dataloader', 'test_dataloader'):
        pipeline = stride_2[loader].dataset.pipeline
        assert sampled(pipeline, video).tolist() == every_other
    stride_1 = Config.fromfile(str(config_path(STRIDE_1)))
    assert sampled(stride_1.test_dataloader.dataset.pipeline,
                   video).tolist() == list(range(4, 12))
    starts = {
        sampled(stride_1.train_dataloader.dataset.pipeline, video)[0]
        for _ in range(40)
    }
    assert len(starts) > 1 and max(starts) <= 8
    train = sampled(stride_1.train_dataloader.dataset.pipeline, video)
    assert np.diff(train).tolist() == [1] * 7


def test_motion_bench_recipe_streams_the_whole_video_of_the_benchmark(
        tmp_path: Path) -> None:
    """Its clips span the 16 frames (the long-range classes need both
    halves); data, schedule and runtime are the evidence benchmark's."""
    videos, _ = make_video_dataset(tmp_path, num_videos=1)  # 16 frames
    video = videos / 'clip_0000.mp4'
    bench = Config.fromfile(str(config_path(BENCH)))
    evidence = Config.fromfile(str(config_path(EVIDENCE_IMG)))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = bench[loader].dataset
        for _ in range(5):  # train-mode sampling draws no other start
            assert sampled(dataset.pipeline,
                           video).tolist() == list(range(0, 16, 2))
        assert dataset.ann_file == evidence[loader].dataset.ann_file
        assert dataset.data_prefix == evidence[loader].dataset.data_prefix
    for key in ('train_cfg', 'optim_wrapper', 'param_scheduler',
                'default_hooks', 'randomness'):
        assert bench[key] == evidence[key], key
    assert bench.train_cfg.max_epochs == 8
    demo_model = Config.fromfile(str(config_path(STRIDE_2))).model
    assert bench.model == demo_model


def test_online_recipes_build_a_streamable_model() -> None:
    for recipe in (STRIDE_2, STRIDE_1, BENCH):
        cfg = Config.fromfile(str(config_path(recipe)))
        StreamingRecognizer(MODELS.build(cfg.model))  # refuses non-causal
