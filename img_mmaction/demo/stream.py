"""Streams a video, a folder of frames or a camera through a causal model.

OUR online inference (docs/online.md), not the paper's. Command::

    python -m img_mmaction.demo.stream CONFIG CHECKPOINT INPUT \\
        [--label-map labels.txt] [--topk 3] [--stride N] \\
        [--max-frames N] [--timeline timeline.png] [--runtime onnxruntime] \\
        [--precision int8] [--calibration VIDEO ...] [--save-graph F.onnx] \\
        [--load-graph F.onnx] \\
        [--cfg-options model.backbone.channels_last="[True,True,False,False]"]

INPUT is a video file (decord), a folder of ``*.jpg``/``*.png`` frames
(sorted by name) or a camera index such as ``0`` (OpenCV). The model must
be causal (``configs/online/``); the checkpoint is loaded strictly (every
tensor must fit, ``weights_only``). Every ``--stride``-th frame (default:
the ``frame_interval`` of the recipe's test sampling, as in training; a
recipe trained on TSN segments spread over each video is refused unless
``--stride`` is given) goes
through the recipe's test pipeline's spatial steps (resize, crop) and
:class:`~img_mmaction.models.StreamingRecognizer`; after each, the top-k
labels over all frames so far are printed, and at the end a PNG timeline
of the scores is written. With ``--runtime onnxruntime --precision int8``
the frame step is quantized to int8, calibrated on ``--calibration`` videos
or a few of the recipe's training set; ``--save-graph`` writes the runner as
one ONNX file and ``--load-graph`` runs such a file (docs/notes/int8.md).
"""
from __future__ import annotations
import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config, DictAction

import img_mmaction  # noqa: F401  (compat fixes + registration)
from img_mmaction.demo.stream_onnx import (DEFAULT_CALIBRATION_VIDEOS,
                                           onnx_runner)
from img_mmaction.deploy.onnx_quantize import PRECISIONS
from img_mmaction.deploy.onnx_stream import RUNTIMES, OnnxStreamingRecognizer
from img_mmaction.deploy.packaged_stream import PackagedStreamRunner
from img_mmaction.models import StreamingRecognizer
from img_mmaction.utils import (CheckpointMismatchError, InferenceInputError,
                                load_checkpoint_strictly, load_label_map,
                                resolve_config)
from img_mmaction.utils.frames import (FramePipeline, iter_frames,
                                       spread_sampling_problem)

#: Labels printed per frame when ``topk`` is not given (fewer for fewer
#: classes).
DEFAULT_TOPK = 3

#: What runs the frame step: torch's recognizer or an ONNX Runtime runner.
FrameRunner = Union[StreamingRecognizer, OnnxStreamingRecognizer,
                    PackagedStreamRunner]
#: Builds ONNX Runtime's runner for frames of (H, W).
RunnerFactory = Callable[[Tuple[int, int]], FrameRunner]


@dataclass(frozen=True)
class _OnnxOptions:
    """The options of ``runtime='onnxruntime'`` only (see :func:`stream`).

    Attributes:
        precision: ``'fp32'``, ``'int8'`` or None.
        calibration: Videos or frame folders to calibrate int8 on, or None.
        calibration_videos: Training videos to calibrate on by default.
        save_graph: Write the runner as one ONNX file here, or None.
        load_graph: Run such a file instead of exporting, or None.
    """

    precision: Optional[str]
    calibration: Optional[Sequence[str]]
    calibration_videos: int
    save_graph: Optional[str]
    load_graph: Optional[str]


def _load_recipe(config: str,
                 cfg_options: Optional[dict]) -> Tuple[Config, FramePipeline]:
    """The recipe (with ``cfg_options`` merged) and its frame pipeline.

    Raises:
        ValueError: The test pipeline cannot run frame by frame.
    """
    cfg = Config.fromfile(str(resolve_config(config)))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg, FramePipeline.from_config(cfg)


def _check_stride(stride: Optional[int]) -> None:
    """Refuses a given ``stride`` below 1 (InferenceInputError)."""
    if stride is not None and stride < 1:
        raise InferenceInputError(f'--stride must be >= 1, got {stride}')


def _load_model(cfg: Config, checkpoint: Optional[str]) -> nn.Module:
    """The recipe's recognizer on the CPU, the checkpoint loaded strictly."""
    from mmaction.apis import init_recognizer
    model = init_recognizer(cfg, None, device='cpu')
    if checkpoint is not None:
        load_checkpoint_strictly(model, checkpoint)
    return model


def _labels_and_topk(model: nn.Module, label_map: Optional[str],
                     topk: Optional[int]) -> Tuple[List[str], int]:
    """The class names and the labels printed per frame.

    Raises:
        InferenceInputError: Bad label map, or ``topk`` outside 1 to the
            number of classes.
    """
    num_classes = model.cls_head.num_classes
    labels = load_label_map(label_map, num_classes)
    if topk is None:
        topk = min(DEFAULT_TOPK, num_classes)
    if not 1 <= topk <= num_classes:
        raise InferenceInputError(
            f'--topk must be 1 to {num_classes} (the classes), got {topk}')
    return labels, topk


def _check_runtime(runtime: str, onnx: _OnnxOptions) -> None:
    """Refuses an unknown runtime, or ONNX options without ONNX Runtime.

    Raises:
        InferenceInputError: ``runtime`` is not one of :data:`RUNTIMES`, or
            an option of ``onnx`` is given with another runtime.
    """
    if runtime not in RUNTIMES:
        raise InferenceInputError(
            f'--runtime must be one of {RUNTIMES}, got {runtime!r}')
    onnx_only = dict(
        precision=onnx.precision not in (None, 'fp32'),
        calibration=onnx.calibration,
        save_graph=onnx.save_graph,
        load_graph=onnx.load_graph)
    for name, given in onnx_only.items():
        if given and runtime != 'onnxruntime':
            option = '--' + name.replace('_', '-')
            if name == 'precision':
                option += f' {onnx.precision}'
            raise InferenceInputError(f'{option} needs --runtime onnxruntime')


def _resolve_stride(cfg: Config, pipeline: FramePipeline,
                    stride: Optional[int]) -> int:
    """``stride``, or the recipe's test ``frame_interval`` when None.

    Raises:
        InferenceInputError: None given for a recipe trained on spread
            segments.
    """
    if stride is None:
        problem = spread_sampling_problem(cfg)
        if problem:
            raise InferenceInputError(problem)
        stride = pipeline.stride
    return stride


def _onnx_runner_factory(cfg: Config, model: nn.Module,
                         pipeline: FramePipeline, stride: int, runtime: str,
                         onnx: _OnnxOptions) -> Optional[RunnerFactory]:
    """What builds ONNX Runtime's runner at the first frame; None for torch.

    ONNX Runtime's runner needs the frame size, known at the first frame.
    """
    if runtime != 'onnxruntime':
        return None

    def build(frame_size: Tuple[int, int]) -> FrameRunner:
        return onnx_runner(cfg, model, pipeline, frame_size, stride,
                           onnx.precision, onnx.calibration,
                           onnx.calibration_videos, onnx.save_graph,
                           onnx.load_graph)

    return build


def _fed_frames(source: str, stride: int,
                max_frames: Optional[int]) -> Iterator[Tuple[int, np.ndarray]]:
    """``(index, frame)`` of every ``stride``-th of the first ``max_frames``.

    Raises:
        FileNotFoundError: ``source`` is neither a file, a folder nor a
            number (:func:`~img_mmaction.utils.frames.iter_frames`).
        ValueError: A folder holds no frames, or a camera cannot be opened.
    """
    for index, frame in enumerate(iter_frames(source)):
        if max_frames is not None and index >= max_frames:
            break
        if index % stride:
            continue
        yield index, frame


def _step(runner: FrameRunner,
          inputs: torch.Tensor) -> Tuple[torch.Tensor, float]:
    """The scores [K] after feeding ``inputs``, and the seconds it took."""
    start = time.perf_counter()
    scores = torch.as_tensor(runner.step(inputs)[0])
    return scores, time.perf_counter() - start


def _report_line(index: int, elapsed: float, scores: torch.Tensor, topk: int,
                 labels: Sequence[str]) -> str:
    """``frame INDEX (MS ms): 1. label score  2. ...`` for one fed frame."""
    values, classes = torch.topk(scores, topk)
    top = '  '.join(
        f'{rank}. {labels[c]} {v:.3f}'
        for rank, (v,
                   c) in enumerate(zip(values.tolist(), classes.tolist()), 1))
    return f'frame {index:5d} ({elapsed * 1000:6.1f} ms): {top}'


def _step_loop(frames: Iterator[Tuple[int, np.ndarray]],
               pipeline: FramePipeline, runner: FrameRunner,
               build_runner: Optional[RunnerFactory], echo: bool, topk: int,
               labels: Sequence[str]) -> Tuple[List[int], List[np.ndarray]]:
    """Feeds the frames one by one; prints a report line after each.

    Args:
        frames: ``(index, frame)`` of the frames to feed.
        pipeline: The recipe's test pipeline's spatial steps.
        runner: Runs the frame step (torch's, unless ``build_runner``).
        build_runner: Builds the runner at the first frame, for its size,
            in place of ``runner``; None keeps ``runner``.
        echo: Print one line per fed frame.
        topk: Labels printed per frame.
        labels: Class names.

    Returns:
        ``(frame indices fed, scores [K] after each)``.
    """
    fed: List[int] = []
    rows: List[np.ndarray] = []
    for index, frame in frames:
        # [1, 3, H, W]: one stream
        inputs = pipeline.inputs([frame])
        if build_runner is not None and not fed:
            runner = build_runner(tuple(inputs.shape[-2:]))
        scores, elapsed = _step(runner, inputs)
        fed.append(index)
        rows.append(scores.numpy())
        if echo:
            print(
                _report_line(index, elapsed, scores, topk, labels), flush=True)
    return fed, rows


def _timeline(source: str, rows: Sequence[np.ndarray]) -> np.ndarray:
    """The scores [n, K] after each fed frame; refuses a source of none."""
    if not rows:
        raise InferenceInputError(f'{source} gave no frames')
    # n x [K] -> [n, K]
    return np.stack(rows)


def stream(config: str,
           checkpoint: Optional[str],
           source: str,
           label_map: Optional[str] = None,
           topk: Optional[int] = None,
           stride: Optional[int] = None,
           max_frames: Optional[int] = None,
           echo: bool = True,
           cfg_options: Optional[dict] = None,
           runtime: str = 'torch',
           precision: Optional[str] = None,
           calibration: Optional[Sequence[str]] = None,
           calibration_videos: int = DEFAULT_CALIBRATION_VIDEOS,
           save_graph: Optional[str] = None,
           load_graph: Optional[str] = None
           ) -> Tuple[List[int], np.ndarray, List[str]]:
    """Streams ``source`` through the model; prints top-k per input frame.

    Args:
        config: Recipe of a causal recognizer: a file, or a packaged
            recipe's name as ``mim`` takes it.
        checkpoint: Its checkpoint (loaded strictly), or None for the
            recipe's initial weights.
        source: Video file, folder of frames, or camera index.
        label_map: Text file with one class name per line.
        topk: Labels printed per frame. Defaults to :data:`DEFAULT_TOPK`,
            or the number of classes when fewer.
        stride: Feed every ``stride``-th frame. Defaults to the recipe's
            test ``frame_interval``; required for a recipe trained on TSN
            segments spread over each video
            (:func:`~img_mmaction.utils.frames.spread_sampling_problem`).
        max_frames: Stop after this many frames of ``source``.
        echo: Print one line per fed frame. Defaults to True.
        cfg_options: Recipe overrides, as ``mim test --cfg-options`` takes
            them, e.g. ``{'model.backbone.channels_last': [True, True,
            False, False]}`` (the per-stage layout measured fastest for one
            stream on CPU, docs/online.md). Defaults to None.
        runtime: ``'torch'`` (:class:`StreamingRecognizer`) or
            ``'onnxruntime'`` (:class:`OnnxStreamingRecognizer`: the frame
            step exported to ONNX at the first frame, for its size, and run
            by ONNX Runtime; the same scores). Defaults to ``'torch'``.
        precision: With ``'onnxruntime'``: ``'fp32'`` or ``'int8'`` (OURS,
            docs/notes/int8.md); None: fp32, or the package's precision.
        calibration: Videos or frame folders to calibrate int8 on; None:
            ``calibration_videos`` videos of the recipe's training set.
        calibration_videos: See ``calibration``. Defaults to 8.
        save_graph: Write the ONNX Runtime runner as one ONNX file here.
        load_graph: Run such a file (made from this checkpoint, for this
            frame size) instead of exporting.

    Returns:
        ``(frame indices fed, scores [n, K] after each, labels)``.

    Raises:
        CheckpointMismatchError: The checkpoint does not fit.
        InferenceInputError: Bad label map or ``topk``.
        ValueError: The model is not causal, the recipe's test pipeline
            cannot run frame by frame, or the recipe was trained on spread
            segments and no ``stride`` is given.
    """
    cfg, pipeline = _load_recipe(config, cfg_options)
    _check_stride(stride)
    model = _load_model(cfg, checkpoint)
    labels, topk = _labels_and_topk(model, label_map, topk)
    onnx = _OnnxOptions(precision, calibration, calibration_videos, save_graph,
                        load_graph)
    _check_runtime(runtime, onnx)
    # Checks the model; ONNX Runtime's runner needs the frame size first.
    runner = StreamingRecognizer(model)
    stride = _resolve_stride(cfg, pipeline, stride)
    build_runner = _onnx_runner_factory(cfg, model, pipeline, stride, runtime,
                                        onnx)
    fed, rows = _step_loop(
        _fed_frames(source, stride, max_frames), pipeline, runner,
        build_runner, echo, topk, labels)
    return fed, _timeline(source, rows), labels


def plot_timeline(frames: Sequence[int],
                  scores: np.ndarray,
                  labels: Sequence[str],
                  out_png: Path,
                  title: str,
                  max_lines: int = 8) -> Path:
    """Scores against frame index, for the classes that score highest.

    Args:
        frames: Frame index of each row of ``scores``.
        scores: [n, K] scores after each fed frame.
        labels: Class names.
        out_png: Output file.
        title: Figure title.
        max_lines: Classes drawn (those with the highest peak score).
            Defaults to 8.

    Returns:
        ``out_png``.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    order = np.argsort(-scores.max(0))[:max_lines]
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for cls in order:
        ax.plot(frames, scores[:, cls], label=labels[cls])
    ax.set_xlabel('frame')
    ax.set_ylabel('score (frames so far)')
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc='upper left', bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=120)
    plt.close(fig)
    return out_png


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m img_mmaction.demo.stream``."""
    parser = argparse.ArgumentParser(
        description='Top-k labels after every frame of a stream (causal '
        'IMG, ours).')
    parser.add_argument(
        'config', help='recipe file, or a packaged recipe\'s name (as mim)')
    parser.add_argument('checkpoint')
    parser.add_argument(
        'input', help='video file, folder of frames, or camera index')
    parser.add_argument(
        '--label-map', default=None, help='text file, one class name per line')
    parser.add_argument(
        '--topk',
        type=int,
        default=None,
        help=f'labels per frame (default {DEFAULT_TOPK}, or the number of '
        'classes when fewer)')
    parser.add_argument(
        '--stride',
        type=int,
        default=None,
        help='feed every N-th frame (default: the recipe\'s frame_interval)')
    parser.add_argument('--max-frames', type=int, default=None)
    parser.add_argument('--timeline', default='stream_timeline.png')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default=None,
        help='override recipe keys, as in mim test (key=value)')
    parser.add_argument(
        '--runtime',
        choices=RUNTIMES,
        default='torch',
        help='onnxruntime: export the frame step to ONNX and run it in ONNX '
        'Runtime (the same scores; docs/online.md)')
    parser.add_argument(
        '--precision',
        choices=PRECISIONS,
        default=None,
        help='with --runtime onnxruntime: int8 quantizes the frame step '
        '(docs/notes/int8.md); default fp32, or the --load-graph file\'s')
    parser.add_argument(
        '--calibration',
        nargs='+',
        default=None,
        metavar='VIDEO',
        help='videos or frame folders to calibrate int8 on (default: '
        '--calibration-videos videos of the recipe\'s training set)')
    parser.add_argument(
        '--calibration-videos',
        type=int,
        default=DEFAULT_CALIBRATION_VIDEOS,
        help='training videos to calibrate int8 on when --calibration is '
        'not given')
    parser.add_argument(
        '--save-graph',
        default=None,
        help='write the ONNX Runtime runner (frame step, classifier, '
        'metadata) as one ONNX file')
    parser.add_argument(
        '--load-graph',
        default=None,
        help='run a --save-graph file instead of exporting; it must come '
        'from this checkpoint and frame size')
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        frames, scores, labels = stream(
            args.config,
            args.checkpoint,
            args.input,
            args.label_map,
            args.topk,
            args.stride,
            args.max_frames,
            cfg_options=args.cfg_options,
            runtime=args.runtime,
            precision=args.precision,
            calibration=args.calibration,
            calibration_videos=args.calibration_videos,
            save_graph=args.save_graph,
            load_graph=args.load_graph)
    except (FileNotFoundError, CheckpointMismatchError, InferenceInputError,
            ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    out = plot_timeline(frames, scores, labels, Path(args.timeline),
                        f'{Path(args.input).name}: {Path(args.config).name}')
    print(f'timeline: {out}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
