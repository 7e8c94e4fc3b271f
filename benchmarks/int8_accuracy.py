"""Same predictions? fp32 and int8 ONNX Runtime streams on a val set (OURS).

Trains a causal recipe through real ``mim train`` / ``mim test`` runs (as
``benchmarks.online_accuracy`` does), on the demo's synthetic motion data
(``--data motion-demo``, the default) or on the evidence benchmark's clips
of real footage (``--data motion-bench``,
:mod:`benchmarks.evidence.motion_bench`), each with its own recipe (the
data are written into ``--work`` when missing), builds the fp32 and the
int8 ONNX Runtime runners of the checkpoint (int8
calibrated on a few training videos through the test pipeline, as the
stream command does by default), streams the WHOLE val set through both
(every video from its first frame, one input every ``frame_interval``
frames) and reports:

* top-1 of each after the last frame, and their difference;
* per-frame top-1 agreement of int8 with fp32, over every fed frame
  position of every video;
* the largest score difference |int8 - fp32| at each frame position;
* the saved-and-loaded int8 package against the runner it came from;
* the fp32 noise floor: fp32 against itself on the val frames with every
  pixel moved by uniform noise of at most ``--pixel-noise`` (0.5: the
  rounding of another decoder or resize), the same agreement and score
  figures. It says how stable the model's per-frame top-1 is under a
  change any deployment meets, next to int8's.

Targets: top-1 within 0.01 of fp32, agreement >= 99 %. Every run writes a
new JSON record under ``--out`` (never replacing one; the record's ``data``
names the dataset; motion-bench records go to a ``motion-bench`` subfolder
by default).

Usage (from the repository root)::

    python -m benchmarks.int8_accuracy --seed 0  # 12 epochs, 80 val videos
    python -m benchmarks.int8_accuracy --data motion-bench --seed 0  # 8, 320
    python -m benchmarks.int8_accuracy --epochs 1 --videos-per-class 2 \\
        --val-per-class 1 --calibration-videos 4     # a smoke run
"""
from __future__ import annotations
import argparse
import dataclasses
import re
import time
from pathlib import Path
from typing import (TYPE_CHECKING, Dict, List, NamedTuple, Optional, Sequence,
                    Tuple, Union)

import numpy as np
import torch
import torch.nn as nn

from benchmarks.int8_schemes import SCHEMES, LabRunner
from benchmarks.records import (command_line, recorded_path, run_environment,
                                write_record)

if TYPE_CHECKING:
    from mmengine.config import Config

    from img_mmaction.deploy.onnx_quantize import QuantScheme
    from img_mmaction.deploy.onnx_stream import OnnxStreamingRecognizer
    from img_mmaction.utils.frames import FramePipeline

__all__ = [
    'frame_agreement', 'max_score_difference', 'figures', 'write_record',
    'main'
]

#: The recipe of the issue: causal tiny IMG, 8 consecutive frames, stride 1.
RECIPE = 'online/img-causal_res2net-tiny_1xb8-8x1x1-12e_motion-demo-rgb.py'
#: The motion benchmark's: 8 frames at stride 2, the whole 16-frame video.
BENCH_RECIPE = (
    'online/img-causal_res2net-tiny_1xb8-8x2x1-8e_motion-bench-rgb.py')
#: Targets of the int8 stream against the fp32 one.
TOP1_WITHIN = 0.01
AGREEMENT_AT_LEAST = 0.99
#: Largest pixel change of the fp32 noise floor (``--pixel-noise``): the
#: rounding of another decoder or resize.
DEFAULT_PIXEL_NOISE = 0.5
#: Bins of fp32's top-1 lead over its second score (its ``margin``) in
#: which differing frames are counted: a frame whose top two scores are
#: nearly tied changes its top-1 under the smallest change of the scores.
LEAD_EDGES = (0.0, 0.01, 0.03, 0.1)


class DataChoice(NamedTuple):
    """A dataset of ``--data``: the defaults of the options it changes."""

    #: ``--recipe``: the causal recipe trained on it.
    recipe: str
    #: ``--epochs``: its recipe's.
    epochs: int
    #: ``--videos-per-class``: training videos per class.
    videos_per_class: int
    #: ``--val-per-class``: val videos per class.
    val_per_class: int
    #: ``--out``: the folder of its records.
    out: str
    #: Its folder under ``--work``.
    folder: str


#: ``--data``: the demo's synthetic motion data; the evidence benchmark's
#: clips of real footage (docs/evidence.md), at its sizes.
DATASETS: Dict[str, DataChoice] = {
    'motion-demo':
    DataChoice(RECIPE, 12, 40, 10, 'benchmarks/records/int8_accuracy', 'data'),
    'motion-bench':
    DataChoice(BENCH_RECIPE, 8, 100, 40,
               'benchmarks/records/int8_accuracy/motion-bench',
               'data-motion-bench'),
}


def frame_agreement(reference: np.ndarray,
                    candidate: np.ndarray) -> Tuple[float, int, int]:
    """How often two streams' top-1 classes agree, over every frame.

    Args:
        reference: Scores [F, N, K] after each of F frame positions of N
            videos.
        candidate: The same for the other runner.

    Returns:
        ``(fraction, agreeing, compared)`` over the F x N frames.
    """
    same = reference.argmax(-1) == candidate.argmax(-1)
    return float(same.mean()), int(same.sum()), int(same.size)


def max_score_difference(reference: np.ndarray,
                         candidate: np.ndarray) -> List[float]:
    """The largest |candidate - reference| score at each frame position.

    Args:
        reference: Scores [F, N, K].
        candidate: Scores [F, N, K].

    Returns:
        F values: each the maximum over the videos and classes.
    """
    # [F, N, K] -> [F, N * K]
    diff = np.abs(candidate - reference).reshape(len(reference), -1)
    return [float(v) for v in diff.max(1)]


def differing_by_fp32_lead(fp32: np.ndarray, other: np.ndarray) -> List[dict]:
    """Frames, and frames whose top-1 differs, by fp32's lead.

    Args:
        fp32: Scores [F, N, K] of the fp32 runner.
        other: Scores [F, N, K] of the runner compared with it.

    Returns:
        One dict per bin of :data:`LEAD_EDGES`: ``lead_from``,
        ``lead_below`` (None: no upper end), ``frames`` (whose fp32 top-1
        score leads its second by at least ``lead_from`` and less than
        ``lead_below``) and ``differing`` (those of them where ``other``'s
        top-1 is another class).
    """
    ranked = np.sort(fp32, axis=-1)
    # [F, N]: each frame's lead
    lead = ranked[..., -1] - ranked[..., -2]
    differs = fp32.argmax(-1) != other.argmax(-1)
    uppers = LEAD_EDGES[1:] + (None, )
    bins = []
    for low, high in zip(LEAD_EDGES, uppers):
        inside = (lead >= low) & (lead < (np.inf if high is None else high))
        bins.append(
            dict(
                lead_from=low,
                lead_below=high,
                frames=int(inside.sum()),
                differing=int((inside & differs).sum())))
    return bins


def figures(fp32: np.ndarray, int8: np.ndarray, labels: np.ndarray) -> dict:
    """The run's figures from both runners' scores.

    Args:
        fp32: Scores [F, N, K] of the fp32 runner after each frame position.
        int8: The same for the int8 runner.
        labels: The N videos' classes.

    Returns:
        ``top1_fp32``, ``top1_int8`` (after the last frame),
        ``top1_difference`` (int8 - fp32), ``per_frame_agreement``,
        ``agreeing_frames``, ``frames_compared``,
        ``max_score_difference_per_position``, ``max_score_difference``,
        ``mean_score_difference`` (over every score),
        ``max_fp32_margin_where_differing`` (the largest lead of fp32's
        top-1 score over its second at a frame where int8's top-1 is
        another class; None where none is), ``differing_by_fp32_lead``
        (:func:`differing_by_fp32_lead`) and ``targets_met``
        (``top1``: within :data:`TOP1_WITHIN`; ``agreement``: at least
        :data:`AGREEMENT_AT_LEAST`).
    """
    top1_fp32 = float((fp32[-1].argmax(-1) == labels).mean())
    top1_int8 = float((int8[-1].argmax(-1) == labels).mean())
    agreement, agreeing, compared = frame_agreement(fp32, int8)
    per_position = max_score_difference(fp32, int8)
    # fp32's lead of its top-1 over its top-2 where the two differ
    ranked = np.sort(fp32, axis=-1)
    margins = (ranked[..., -1] -
               ranked[..., -2])[fp32.argmax(-1) != int8.argmax(-1)]
    return dict(
        max_fp32_margin_where_differing=float(margins.max())
        if margins.size else None,
        mean_score_difference=float(np.abs(int8 - fp32).mean()),
        differing_by_fp32_lead=differing_by_fp32_lead(fp32, int8),
        top1_fp32=top1_fp32,
        top1_int8=top1_int8,
        top1_difference=top1_int8 - top1_fp32,
        per_frame_agreement=agreement,
        agreeing_frames=agreeing,
        frames_compared=compared,
        max_score_difference_per_position=per_position,
        max_score_difference=max(per_position),
        targets_met=dict(
            top1=abs(top1_int8 - top1_fp32) <= TOP1_WITHIN,
            agreement=agreement >= AGREEMENT_AT_LEAST))


def with_pixel_noise(frames: torch.Tensor, amplitude: float,
                     seed: int) -> torch.Tensor:
    """Raw pixels with uniform pixel noise, for the fp32 noise floor.

    Args:
        frames: Raw pixels (0-255, any dtype), e.g. [N, F, 3, H, W].
        amplitude: The noise is uniform in [-``amplitude``, ``amplitude``]
            for each value.
        seed: Seeds the noise: the same seed, the same noise.

    Returns:
        float32 frames of the same shape, kept in 0..255 and not rounded
        (the data preprocessor takes float frames).
    """
    generator = torch.Generator().manual_seed(seed)
    noise = torch.rand(frames.shape, generator=generator) * 2 - 1
    return (frames.float() + amplitude * noise).clamp(0, 255)


def noise_floor(clean: np.ndarray, noisy: np.ndarray,
                amplitude: float) -> dict:
    """fp32 against itself on noisy pixels (``--pixel-noise``).

    Args:
        clean: fp32 scores [F, N, K] on the val frames.
        noisy: fp32 scores [F, N, K] on them with pixel noise.
        amplitude: The noise's largest value.

    Returns:
        ``amplitude``, ``per_frame_agreement``, ``agreeing_frames``,
        ``frames_compared``, ``last_frame_top1_changed`` (the share of
        videos whose top-1 after the last frame differs),
        ``max_score_difference`` and ``differing_by_fp32_lead``
        (:func:`differing_by_fp32_lead`).
    """
    agreement, agreeing, compared = frame_agreement(clean, noisy)
    return dict(
        amplitude=amplitude,
        per_frame_agreement=agreement,
        agreeing_frames=agreeing,
        frames_compared=compared,
        last_frame_top1_changed=float((clean[-1].argmax(-1)
                                       != noisy[-1].argmax(-1)).mean()),
        max_score_difference=max(max_score_difference(clean, noisy)),
        differing_by_fp32_lead=differing_by_fp32_lead(clean, noisy))


def stream_val(runner, inputs: torch.Tensor, stride: int) -> np.ndarray:
    """Every val video streamed at once, one stream each.

    Args:
        runner: A runner with ``reset`` and ``step`` (torch or NumPy).
        inputs: Raw frames of every val video [N, F, 3, H, W].
        stride: Video frames between two inputs.

    Returns:
        Scores [F', N, K] after each fed frame (every ``stride``-th).
    """
    runner.reset()
    rows = []
    for index in range(0, inputs.shape[1], stride):
        # [N, F, 3, H, W] -> [N, 3, H, W]
        rows.append(np.asarray(runner.step(inputs[:, index])))
    return np.stack(rows)


def _options(pairs: Sequence[str]) -> Dict[str, str]:
    """``key=value`` strings as a dict for ``Config.merge_from_dict``."""
    return dict(pair.split('=', 1) for pair in pairs)


class ValSet(NamedTuple):
    """The val videos as the recipe's test pipeline feeds them."""

    #: Raw frames of every val video [N, F, 3, H, W].
    inputs: torch.Tensor
    #: The N videos' classes.
    labels: np.ndarray
    #: Video frames between two inputs.
    stride: int
    #: Height and width of the inputs.
    frame_size: Tuple[int, int]


class CalibrationSet(NamedTuple):
    """The training videos' clips that calibrate int8."""

    #: The training videos (files or frame folders).
    sources: List[str]
    #: Raw inputs of each video's first frames [T, 3, H, W].
    clips: List[torch.Tensor]
    #: Inputs in all clips.
    frames: int
    #: Fewer frames or clips than the runner takes (the lab runner then).
    below_minimum: bool


class Streamed(NamedTuple):
    """The val set streamed: scores [F', N, K] after each fed frame."""

    #: The fp32 runner's.
    fp32: np.ndarray
    #: The int8 runner's.
    int8: np.ndarray
    #: The saved-and-loaded int8 package's.
    loaded: np.ndarray
    #: The package file.
    package: Path
    #: The fp32 runner's on the frames with pixel noise (None: none).
    fp32_noisy: Optional[np.ndarray] = None


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--data',
        choices=list(DATASETS),
        default='motion-demo',
        help='the dataset; it sets the defaults of --out, --recipe, '
        '--epochs, --videos-per-class and --val-per-class (DATASETS)')
    parser.add_argument(
        '--out', help='folder of the JSON records (one new file per run)')
    parser.add_argument(
        '--work',
        default='int8_output',
        help='data, mim work dirs and packages')
    parser.add_argument('--recipe')
    parser.add_argument('--epochs', type=int)
    parser.add_argument('--videos-per-class', type=int)
    parser.add_argument('--val-per-class', type=int)
    parser.add_argument('--data-seed', type=int, default=0)
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the training run')
    parser.add_argument(
        '--calibration-videos',
        type=int,
        default=8,
        help='training videos that calibrate int8')
    parser.add_argument(
        '--calibration-inputs',
        type=int,
        default=16,
        help='inputs taken from each calibration video; below the runner\'s '
        'minimum in all, the lab runner without the guard is used')
    parser.add_argument(
        '--scheme',
        choices=list(SCHEMES),
        default='default',
        help='what is quantized (benchmarks.int8_schemes.SCHEMES)')
    parser.add_argument(
        '--keep-float',
        nargs='+',
        default=[],
        metavar='PATTERN',
        help="node names that stay float too, added to the scheme's "
        "keep_float (fnmatch, e.g. '*/layer1/*')")
    parser.add_argument(
        '--checkpoint',
        default=None,
        help='a checkpoint of --recipe to use instead of training one')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument(
        '--pixel-noise',
        type=float,
        default=DEFAULT_PIXEL_NOISE,
        help='largest pixel change of the fp32 noise floor (0: none)')
    return parser


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """The command line, each option not given set by ``--data``."""
    args = build_parser().parse_args(argv)
    for key, value in DATASETS[args.data]._asdict().items():
        if key != 'folder' and getattr(args, key) is None:
            setattr(args, key, value)
    return args


def _run_name(args: argparse.Namespace) -> str:
    """The training run's name: its work dir and its package's stem
    (prefixed by the dataset but for the demo's)."""
    name = f'seed{args.seed}_e{args.epochs}'
    return name if args.data == 'motion-demo' else f'{args.data}_{name}'


def generate_data(args: argparse.Namespace, work: Path) -> Path:
    """The dataset of ``--data`` under ``work`` (written when missing).

    Args:
        args: The command line (``--data``, its sizes and ``--data-seed``).
        work: The ``--work`` folder.

    Returns:
        The dataset folder (``videos/``, ``train.txt``, ``val.txt``).
    """
    folder = work / DATASETS[args.data].folder
    if args.data == 'motion-bench':
        from benchmarks.evidence.motion_bench import generate_bench
        return generate_bench(
            folder,
            args.videos_per_class,
            args.val_per_class,
            seed=args.data_seed)
    from img_mmaction import synthetic
    return synthetic.generate(
        folder, args.videos_per_class, args.val_per_class, seed=args.data_seed)


def train_or_load(args: argparse.Namespace, config: Path, work: Path,
                  data: Path) -> Tuple[Union[str, Path], dict]:
    """The checkpoint to measure: ``--checkpoint``, or one trained now.

    Args:
        args: The command line.
        config: The recipe's file.
        work: Folder of the mim work dirs.
        data: The dataset (:func:`generate_data`'s).

    Returns:
        ``(checkpoint, training)``: the record's ``training`` holds the
        checkpoint, and ``train_s`` and ``mim_test_top1`` where known (a
        given checkpoint's top-1 from the ``test_predictions.pkl`` beside
        it, written when a run of this script trained it).
    """
    from img_mmaction.demo.mim import load_predictions, train_and_test
    from img_mmaction.demo.report import classification_metrics
    from img_mmaction.demo.run import data_options

    if args.checkpoint is None:
        run = train_and_test(
            config, work / 'work' / _run_name(args),
            f'causal IMG seed {args.seed}',
            data_options(data) + [
                f'train_cfg.max_epochs={args.epochs}',
                f'randomness.seed={args.seed}'
            ], data_options(data))
        checkpoint = run['checkpoint']
        training = dict(
            checkpoint=recorded_path(checkpoint),
            train_s=round(run['train_s'], 1),
            mim_test_top1=classification_metrics(run['scores'],
                                                 run['labels'])['top1'])
    else:
        checkpoint = args.checkpoint
        training = dict(checkpoint=recorded_path(checkpoint))
        dump = Path(checkpoint).parent / 'test_predictions.pkl'
        if dump.is_file():  # a run of this script trained it
            training['mim_test_top1'] = classification_metrics(
                *load_predictions(dump))['top1']
    return checkpoint, training


def load_model(config: Path, data: Path, checkpoint: Union[str, Path]
               ) -> Tuple[Config, nn.Module, FramePipeline]:
    """The recipe on the dataset, its model and its test pipeline.

    Args:
        config: The recipe's file.
        data: The dataset (:func:`generate_data`'s).
        checkpoint: Weights of the recipe's model.

    Returns:
        ``(cfg, model, pipeline)``: the recipe with the data's paths, its
        recognizer on the CPU and its test pipeline.
    """
    from mmaction.apis import init_recognizer
    from mmengine.config import Config

    from img_mmaction.demo.run import data_options
    from img_mmaction.utils.frames import FramePipeline

    cfg = Config.fromfile(str(config))
    cfg.merge_from_dict(_options(data_options(data)))
    model = init_recognizer(cfg, checkpoint, device='cpu')
    return cfg, model, FramePipeline.from_config(cfg)


def load_val(pipeline: FramePipeline, data: Path) -> ValSet:
    """Every val video through the test pipeline's spatial steps.

    Args:
        pipeline: The recipe's test pipeline.
        data: The dataset (:func:`generate_data`'s).
    """
    from benchmarks.online_accuracy import frame_inputs, load_split

    videos, labels = load_split(data, 'val')
    inputs = frame_inputs(pipeline, videos)
    return ValSet(inputs, labels, pipeline.stride, tuple(inputs.shape[-2:]))


def calibration_set(args: argparse.Namespace, cfg: Config,
                    pipeline: FramePipeline, stride: int) -> CalibrationSet:
    """The first inputs of a few training videos, as the stream command
    takes them.

    Args:
        args: The command line (``--calibration-videos`` and
            ``--calibration-inputs``).
        cfg: The recipe.
        pipeline: Its test pipeline.
        stride: Video frames between two inputs.
    """
    from img_mmaction.demo.stream_onnx import (calibration_clips,
                                               training_videos)
    from img_mmaction.deploy.onnx_stream import OnnxStreamingRecognizer

    sources = training_videos(cfg, args.calibration_videos)
    clips = calibration_clips(pipeline, sources, stride,
                              args.calibration_inputs)
    frames = sum(len(clip) for clip in clips)
    below_minimum = (
        frames < OnnxStreamingRecognizer.min_calibration_frames
        or len(clips) < OnnxStreamingRecognizer.min_calibration_clips)
    return CalibrationSet(sources, clips, frames, below_minimum)


def build_runners(
    args: argparse.Namespace, model: nn.Module, frame_size: Tuple[int, int],
    calibration: CalibrationSet
) -> Tuple[OnnxStreamingRecognizer, OnnxStreamingRecognizer, float]:
    """The fp32 and the int8 ONNX Runtime runner of ``model``.

    Args:
        args: The command line (``--threads``, ``--scheme`` and
            ``--keep-float``).
        model: The recognizer.
        frame_size: Height and width of the inputs.
        calibration: Calibrates int8 (through :class:`LabRunner` when it is
            below the runner's minimum).

    Returns:
        ``(fp32, int8, build_s)``: the runners and the seconds both took.
    """
    from img_mmaction.deploy.onnx_stream import OnnxStreamingRecognizer

    start = time.time()
    fp32 = OnnxStreamingRecognizer(model, frame_size, threads=args.threads)
    int8 = (LabRunner
            if calibration.below_minimum else OnnxStreamingRecognizer)(
                model,
                frame_size,
                threads=args.threads,
                precision='int8',
                calibration=calibration.clips,
                scheme=scheme_of(args))
    return fp32, int8, time.time() - start


def scheme_of(args: argparse.Namespace) -> QuantScheme:
    """``--scheme`` with ``--keep-float``'s patterns added."""
    scheme = SCHEMES[args.scheme]
    return dataclasses.replace(
        scheme, keep_float=scheme.keep_float + tuple(args.keep_float))


def measure(fp32: OnnxStreamingRecognizer, int8: OnnxStreamingRecognizer,
            val: ValSet, package_file: Path, threads: int, pixel_noise: float,
            seed: int) -> Streamed:
    """The val set streamed through both runners and the saved package,
    and through fp32 again with pixel noise.

    Args:
        fp32: The fp32 runner.
        int8: The int8 runner; its package is saved as ``package_file``.
        val: The val set.
        package_file: Where the int8 package goes.
        threads: Intra-op threads of the loaded package.
        pixel_noise: The noise's largest value (0: fp32 is not streamed
            again).
        seed: Seeds the noise.

    Returns:
        The scores of the three runners (and of fp32 on noisy pixels), and
        the package's file.
    """
    from img_mmaction.deploy.packaged_stream import PackagedStreamRunner

    fp32_scores = stream_val(fp32, val.inputs, val.stride)
    int8_scores = stream_val(int8, val.inputs, val.stride)
    package = int8.save_package(package_file)
    loaded = PackagedStreamRunner(package, threads=threads)
    loaded_scores = stream_val(loaded, val.inputs.numpy(), val.stride)
    noisy_scores = stream_val(fp32,
                              with_pixel_noise(val.inputs, pixel_noise, seed),
                              val.stride) if pixel_noise else None
    return Streamed(fp32_scores, int8_scores, loaded_scores, package,
                    noisy_scores)


def make_record(args: argparse.Namespace, argv: Optional[Sequence[str]],
                environment: dict, training: dict, val: ValSet,
                calibration: CalibrationSet, int8: OnnxStreamingRecognizer,
                build_s: float, streamed: Streamed) -> dict:
    """The run's record.

    Args:
        args: The command line.
        argv: Its arguments, as :func:`main` got them.
        environment: :func:`~benchmarks.records.run_environment`'s.
        training: :func:`train_or_load`'s.
        val: The val set.
        calibration: int8's calibration set.
        int8: The int8 runner (its ``calibration`` figures).
        build_s: Seconds the runners took to build.
        streamed: :func:`measure`'s.
    """
    agreement, _, _ = frame_agreement(streamed.int8, streamed.loaded)
    return dict(
        environment,
        command=command_line('benchmarks.int8_accuracy', argv),
        data=args.data,
        recipe=args.recipe,
        seed=args.seed,
        data_seed=args.data_seed,
        epochs=args.epochs,
        videos_per_class=args.videos_per_class,
        val_per_class=args.val_per_class,
        training=training,
        stride=val.stride,
        frame_size=list(val.frame_size),
        calibration=dict(
            int8.calibration,
            videos=len(calibration.sources),
            sources=[Path(s).name for s in calibration.sources],
            below_minimum=calibration.below_minimum),
        build_s=round(build_s, 1),
        figures=figures(streamed.fp32, streamed.int8, val.labels),
        fp32_pixel_noise=None if streamed.fp32_noisy is None else noise_floor(
            streamed.fp32, streamed.fp32_noisy, args.pixel_noise),
        targets=dict(
            top1_within=TOP1_WITHIN, agreement_at_least=AGREEMENT_AT_LEAST),
        package=dict(
            file=recorded_path(streamed.package),
            max_score_difference=float(
                np.abs(streamed.loaded - streamed.int8).max()),
            per_frame_agreement=agreement),
        per_frame=dict(
            labels=[int(v) for v in val.labels],
            fp32_top1=streamed.fp32.argmax(-1).tolist(),
            int8_top1=streamed.int8.argmax(-1).tolist()))


def _noise_line(noise: Optional[dict]) -> str:
    """The noise floor's figures as a printed line ('' for none)."""
    if noise is None:
        return ''
    return (f'\nfp32 against itself with pixel noise of at most '
            f'{noise["amplitude"]:g}: per-frame agreement '
            f'{noise["per_frame_agreement"]:.4f} ({noise["agreeing_frames"]}'
            f' of {noise["frames_compared"]}); largest score difference '
            f'{noise["max_score_difference"]:.3g}')


def _lead_line(bins: Sequence[dict]) -> str:
    """``'< 0.01: 9 of 50; ...'``: differing frames by fp32's lead."""
    parts = []
    for bin_ in bins:
        span = (f'>= {bin_["lead_from"]:g}' if bin_['lead_below'] is None else
                f'{bin_["lead_from"]:g}-{bin_["lead_below"]:g}')
        parts.append(f'{span}: {bin_["differing"]} of {bin_["frames"]}')
    return '; '.join(parts)


def report(args: argparse.Namespace, record: dict, frames: int) -> Path:
    """Writes the record (its tag names what differs from the default run)
    and prints the figures.

    Args:
        args: The command line.
        record: :func:`make_record`'s.
        frames: Inputs in the calibration clips.

    Returns:
        The record's file.
    """
    results = record['figures']
    tag = f'seed{args.seed}'
    if args.scheme != 'default':
        tag += f'_{args.scheme}'
    for pattern in args.keep_float:
        tag += '_float-' + re.sub(r'[^A-Za-z0-9.]+', '', pattern)
    if args.calibration_inputs * args.calibration_videos != 128:
        tag += f'_{frames}frames'
    if args.pixel_noise != DEFAULT_PIXEL_NOISE:
        tag += f'_noise{args.pixel_noise:g}'
    path = write_record(Path(args.out), record, tag=tag)
    print(
        f'top-1 after the last frame: fp32 {results["top1_fp32"]:.4f}, int8 '
        f'{results["top1_int8"]:.4f}; per-frame agreement '
        f'{results["per_frame_agreement"]:.4f} ({results["agreeing_frames"]}'
        f' of {results["frames_compared"]}); largest score difference '
        f'{results["max_score_difference"]:.3g}; targets met: '
        f'{results["targets_met"]}\ndiffering frames by fp32\'s top-1 lead '
        f'over its second: ' + _lead_line(results['differing_by_fp32_lead']) +
        _noise_line(record['fp32_pixel_noise']) + f'\nrecord: {path}',
        flush=True)
    return path


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Command line entry point; returns the record it wrote."""
    import img_mmaction  # noqa: F401  (compat fixes + registration)
    from img_mmaction.utils import config_path

    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    environment = run_environment()
    work = Path(args.work).resolve()
    data = generate_data(args, work)
    config = config_path(args.recipe)
    checkpoint, training = train_or_load(args, config, work, data)
    cfg, model, pipeline = load_model(config, data, checkpoint)
    val = load_val(pipeline, data)
    calibration = calibration_set(args, cfg, pipeline, val.stride)
    fp32, int8, build_s = build_runners(args, model, val.frame_size,
                                        calibration)
    streamed = measure(fp32, int8, val,
                       work / 'packages' / f'{_run_name(args)}_int8.onnx',
                       args.threads, args.pixel_noise, args.seed)
    record = make_record(args, argv, environment, training, val, calibration,
                         int8, build_s, streamed)
    report(args, record, calibration.frames)
    return record


if __name__ == '__main__':
    main()
