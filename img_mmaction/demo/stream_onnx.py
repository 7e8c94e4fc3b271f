"""The stream command's ONNX Runtime runners: fp32, int8, or a package.

OUR helpers for ``python -m img_mmaction.demo.stream ... --runtime
onnxruntime`` (docs/notes/int8.md). An int8 frame step is calibrated on
consecutive frames of a few videos, at the stream's stride, through the
recipe's test pipeline's spatial steps (:class:`FramePipeline`), exactly as
the command feeds them; by default the videos are a few of the recipe's
training set (``train_dataloader.dataset``), spread over its list. A saved
package is loaded only when it was made from the checkpoint's weights for
this frame size and state layout.
"""
from __future__ import annotations
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config

from img_mmaction.deploy.onnx_stream import OnnxStreamingRecognizer
from img_mmaction.deploy.packaged_stream import PackagedStreamRunner
from img_mmaction.deploy.stream_package import (stream_state_shapes,
                                                weights_fingerprint)
from img_mmaction.utils import InferenceInputError
from img_mmaction.utils.frames import FramePipeline, iter_frames

#: Training videos used when none are given.
DEFAULT_CALIBRATION_VIDEOS = 8
#: Inputs taken from each calibration video (its first ones).
INPUTS_PER_VIDEO = 16


def training_videos(cfg: Config, count: int) -> List[str]:
    """``count`` videos of the recipe's training set, spread over its list.

    Args:
        cfg: The recipe (its ``train_dataloader.dataset``: annotation file
            and data prefix, resolved as ``mim train`` resolves them).
        count: Videos wanted; all of them when the set is smaller.

    Returns:
        Paths of video files (or frame folders, for a rawframe dataset).

    Raises:
        ValueError: ``count`` < 1, or the training set is empty.
    """
    from mmaction.registry import DATASETS
    if count < 1:
        raise ValueError(f'--calibration-videos must be >= 1, got {count}')
    dataset_cfg = cfg.train_dataloader.dataset.copy()
    dataset_cfg['pipeline'] = []
    dataset = DATASETS.build(dataset_cfg)
    total = len(dataset)
    if total == 0:
        raise ValueError('the training set of the recipe is empty '
                         f'({dataset_cfg.get("ann_file")})')
    picks = np.unique(np.linspace(0, total - 1, min(count, total)).round())
    infos = [dataset.get_data_info(int(index)) for index in picks]
    return [info.get('filename', info.get('frame_dir')) for info in infos]


def calibration_clips(pipeline: FramePipeline,
                      sources: Sequence[str],
                      stride: int,
                      inputs_per_video: int = INPUTS_PER_VIDEO
                      ) -> List[torch.Tensor]:
    """Raw model inputs of the first frames of each video, as a stream.

    Args:
        pipeline: The recipe's test pipeline (its spatial steps).
        sources: Video files or frame folders.
        stride: Every ``stride``-th frame is taken, from frame 0.
        inputs_per_video: Inputs taken from each video. Defaults to
            :data:`INPUTS_PER_VIDEO`.

    Returns:
        One [T, 3, H, W] tensor of raw pixels per video.

    Raises:
        FileNotFoundError: A source is neither a file nor a folder.
        ValueError: A source gives no frames.
    """
    clips = []
    for source in sources:
        frames = []
        for index, frame in enumerate(iter_frames(str(source))):
            if len(frames) == inputs_per_video:
                break
            if index % stride == 0:
                frames.append(frame)
        if not frames:
            raise ValueError(f'calibration video {source} gave no frames')
        clips.append(pipeline.inputs(frames))
    return clips


def describe(sources: Sequence[str],
             clips: Sequence[torch.Tensor],
             origin: Optional[str] = None) -> str:
    """One line: how many frames of which videos calibrate the graph."""
    frames = sum(clip.shape[0] for clip in clips)
    where = f' of {origin}' if origin else ''
    return (f'int8 frame step: {frames} calibration frames of '
            f'{len(clips)} videos{where} ({", ".join(map(str, sources))})')


def onnx_runner(
    cfg: Config,
    model: nn.Module,
    pipeline: FramePipeline,
    frame_size: Tuple[int, int],
    stride: int,
    precision: Optional[str] = None,
    calibration: Optional[Sequence[str]] = None,
    calibration_videos: int = DEFAULT_CALIBRATION_VIDEOS,
    save_graph: Optional[str] = None,
    load_graph: Optional[str] = None
) -> Union[OnnxStreamingRecognizer, PackagedStreamRunner]:
    """The command's ONNX Runtime runner for frames of ``frame_size``.

    Args:
        cfg: The recipe (its training set calibrates by default).
        model: The checkpoint's causal recognizer.
        pipeline: The recipe's test pipeline.
        frame_size: (H, W) of the frames after the pipeline.
        stride: Video frames between two inputs of the stream.
        precision: ``'fp32'`` or ``'int8'``; None: fp32, or the package's
            precision with ``load_graph``.
        calibration: Videos or frame folders to calibrate int8 on; None:
            ``calibration_videos`` of the training set.
        calibration_videos: Training videos used when ``calibration`` is
            None. Defaults to :data:`DEFAULT_CALIBRATION_VIDEOS`.
        save_graph: Write the runner's package (one ONNX file) here.
        load_graph: Run this package instead of exporting; it must have
            been made from ``model``'s weights for ``frame_size``.

    Returns:
        :class:`OnnxStreamingRecognizer`, or a
        :class:`PackagedStreamRunner` with ``load_graph``.

    Raises:
        InferenceInputError: ``precision`` is not the package's.
        ValueError: Too few or unreadable calibration frames, or a
            package of other weights, frame size or state layout.
    """
    if load_graph is not None:
        runner = PackagedStreamRunner(
            load_graph,
            threads=torch.get_num_threads(),
            frame_size=frame_size,
            fingerprint=weights_fingerprint(model),
            state_shapes=stream_state_shapes(model, frame_size))
        if precision is not None and precision != runner.precision:
            raise InferenceInputError(
                f'{load_graph} is an {runner.precision} package, but '
                f'--precision {precision}')
        print(
            f'{load_graph}: an {runner.precision} package of this '
            f'checkpoint (weights fingerprint {runner.fingerprint[:12]}...)',
            flush=True)
        return runner
    precision = precision or 'fp32'
    clips = None
    if precision == 'int8':
        sources = list(calibration or training_videos(cfg, calibration_videos))
        clips = calibration_clips(pipeline, sources, stride)
        origin = None if calibration else 'the training set'
        print(describe(sources, clips, origin), flush=True)
    runner = OnnxStreamingRecognizer(
        model, frame_size, precision=precision, calibration=clips)
    if save_graph is not None:
        print(f'package: {runner.save_package(Path(save_graph))}', flush=True)
    return runner
