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
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import DictAction

import img_mmaction  # noqa: F401  (compat fixes + registration)
from img_mmaction.demo.stream_onnx import (DEFAULT_CALIBRATION_VIDEOS,
                                           onnx_runner)
from img_mmaction.deploy.onnx_quantize import PRECISIONS
from img_mmaction.deploy.onnx_stream import RUNTIMES
from img_mmaction.models import StreamingRecognizer
from img_mmaction.utils import (CheckpointMismatchError, InferenceInputError,
                                load_checkpoint_strictly, load_label_map,
                                resolve_config)
from img_mmaction.utils.frames import (FramePipeline, iter_frames,
                                       spread_sampling_problem)

#: Labels printed per frame when ``topk`` is not given (fewer for fewer
#: classes).
DEFAULT_TOPK = 3


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
    from mmaction.apis import init_recognizer
    from mmengine.config import Config

    cfg = Config.fromfile(str(resolve_config(config)))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    pipeline = FramePipeline.from_config(cfg)
    if stride is not None and stride < 1:
        raise InferenceInputError(f'--stride must be >= 1, got {stride}')
    model = init_recognizer(cfg, None, device='cpu')
    if checkpoint is not None:
        load_checkpoint_strictly(model, checkpoint)
    num_classes = model.cls_head.num_classes
    labels = load_label_map(label_map, num_classes)
    if topk is None:
        topk = min(DEFAULT_TOPK, num_classes)
    if not 1 <= topk <= num_classes:
        raise InferenceInputError(
            f'--topk must be 1 to {num_classes} (the classes), got {topk}')
    if runtime not in RUNTIMES:
        raise InferenceInputError(
            f'--runtime must be one of {RUNTIMES}, got {runtime!r}')
    onnx_only = dict(
        precision=precision not in (None, 'fp32'),
        calibration=calibration,
        save_graph=save_graph,
        load_graph=load_graph)
    for name, given in onnx_only.items():
        if given and runtime != 'onnxruntime':
            option = '--' + name.replace('_', '-')
            if name == 'precision':
                option += f' {precision}'
            raise InferenceInputError(f'{option} needs --runtime onnxruntime')
    # Checks the model; ONNX Runtime's runner needs the frame size first.
    runner = StreamingRecognizer(model)
    if stride is None:
        problem = spread_sampling_problem(cfg)
        if problem:
            raise InferenceInputError(problem)
        stride = pipeline.stride
    fed: List[int] = []
    rows: List[np.ndarray] = []
    for index, frame in enumerate(iter_frames(source)):
        if max_frames is not None and index >= max_frames:
            break
        if index % stride:
            continue
        # [1, 3, H, W]: one stream
        inputs = pipeline.inputs([frame])
        if runtime == 'onnxruntime' and not fed:
            runner = onnx_runner(cfg, model, pipeline,
                                 tuple(inputs.shape[-2:]), stride, precision,
                                 calibration, calibration_videos, save_graph,
                                 load_graph)
        start = time.perf_counter()
        scores = torch.as_tensor(runner.step(inputs)[0])
        elapsed = time.perf_counter() - start
        fed.append(index)
        rows.append(scores.numpy())
        if echo:
            values, classes = torch.topk(scores, topk)
            top = '  '.join(f'{rank}. {labels[c]} {v:.3f}' for rank, (
                v, c) in enumerate(zip(values.tolist(), classes.tolist()), 1))
            print(
                f'frame {index:5d} ({elapsed * 1000:6.1f} ms): {top}',
                flush=True)
    if not rows:
        raise InferenceInputError(f'{source} gave no frames')
    return fed, np.stack(rows), labels


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


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point; returns the exit status."""
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
    args = parser.parse_args(argv)
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
