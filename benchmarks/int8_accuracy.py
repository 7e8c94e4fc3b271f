"""Same predictions? fp32 and int8 ONNX Runtime streams on a val set (OURS).

Trains a causal recipe on the demo's synthetic motion data through real
``mim train`` / ``mim test`` runs (as ``analysis.online_accuracy`` does),
builds the fp32 and the int8 ONNX Runtime runners of the checkpoint (int8
calibrated on a few training videos through the test pipeline, as the
stream command does by default), streams the WHOLE val set through both
(every video from its first frame, one input every ``frame_interval``
frames) and reports:

* top-1 of each after the last frame, and their difference;
* per-frame top-1 agreement of int8 with fp32, over every fed frame
  position of every video;
* the largest score difference |int8 - fp32| at each frame position;
* the saved-and-loaded int8 package against the runner it came from.

Targets: top-1 within 0.01 of fp32, agreement >= 99 %. Every run writes a
new JSON record under ``--out`` (never replacing one).

Usage (from the repository root)::

    python -m benchmarks.int8_accuracy --seed 0  # 12 epochs, 80 val videos
    python -m benchmarks.int8_accuracy --epochs 1 --videos-per-class 2 \\
        --val-per-class 1 --calibration-videos 4     # a smoke run
"""
from __future__ import annotations
import argparse
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from benchmarks.int8_schemes import SCHEMES, LabRunner
from benchmarks.records import command_line, run_environment, write_record

__all__ = [
    'frame_agreement', 'max_score_difference', 'figures', 'write_record',
    'main'
]

#: The recipe of the issue: causal tiny IMG, 8 consecutive frames, stride 1.
RECIPE = 'online/img-causal_res2net-tiny_1xb8-8x1x1-12e_motion-demo-rgb.py'
#: Targets of the int8 stream against the fp32 one.
TOP1_WITHIN = 0.01
AGREEMENT_AT_LEAST = 0.99


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
        another class; None where none is) and ``targets_met``
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


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Command line entry point; returns the record it wrote."""
    from mmaction.apis import init_recognizer
    from mmengine.config import Config

    import img_mmaction  # noqa: F401  (compat fixes + registration)
    from benchmarks.online_accuracy import frame_inputs, load_split
    from img_mmaction import synthetic
    from img_mmaction.demo import report
    from img_mmaction.demo.mim import load_predictions, train_and_test
    from img_mmaction.demo.run import data_options
    from img_mmaction.demo.stream_onnx import (calibration_clips,
                                               training_videos)
    from img_mmaction.deploy.onnx_stream import OnnxStreamingRecognizer
    from img_mmaction.deploy.packaged_stream import PackagedStreamRunner
    from img_mmaction.utils import config_path
    from img_mmaction.utils.frames import FramePipeline

    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--out',
        default='benchmarks/records/int8_accuracy',
        help='folder of the JSON records (one new file per run)')
    parser.add_argument(
        '--work',
        default='int8_output',
        help='data, mim work dirs and packages')
    parser.add_argument('--recipe', default=RECIPE)
    parser.add_argument('--epochs', type=int, default=12)
    parser.add_argument('--videos-per-class', type=int, default=40)
    parser.add_argument('--val-per-class', type=int, default=10)
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
        '--checkpoint',
        default=None,
        help='a checkpoint of --recipe to use instead of training one')
    parser.add_argument('--threads', type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    environment = run_environment()
    work = Path(args.work).resolve()
    data = synthetic.generate(
        work / 'data',
        args.videos_per_class,
        args.val_per_class,
        seed=args.data_seed)
    config = config_path(args.recipe)
    run_name = f'seed{args.seed}_e{args.epochs}'
    if args.checkpoint is None:
        run = train_and_test(
            config, work / 'work' / run_name, f'causal IMG seed {args.seed}',
            data_options(data) + [
                f'train_cfg.max_epochs={args.epochs}',
                f'randomness.seed={args.seed}'
            ], data_options(data))
        checkpoint = run['checkpoint']
        training = dict(
            checkpoint=checkpoint,
            train_s=round(run['train_s'], 1),
            mim_test_top1=report.classification_metrics(
                run['scores'], run['labels'])['top1'])
    else:
        checkpoint = args.checkpoint
        training = dict(checkpoint=checkpoint)
        dump = Path(checkpoint).parent / 'test_predictions.pkl'
        if dump.is_file():  # a run of this script trained it
            training['mim_test_top1'] = report.classification_metrics(
                *load_predictions(dump))['top1']
    cfg = Config.fromfile(str(config))
    cfg.merge_from_dict(_options(data_options(data)))
    model = init_recognizer(cfg, checkpoint, device='cpu')
    pipeline = FramePipeline.from_config(cfg)
    stride = pipeline.stride
    videos, labels = load_split(data, 'val')
    inputs = frame_inputs(pipeline, videos)
    frame_size = tuple(inputs.shape[-2:])

    sources = training_videos(cfg, args.calibration_videos)
    clips = calibration_clips(pipeline, sources, stride,
                              args.calibration_inputs)
    frames = sum(len(clip) for clip in clips)
    below_minimum = (
        frames < OnnxStreamingRecognizer.min_calibration_frames
        or len(clips) < OnnxStreamingRecognizer.min_calibration_clips)
    start = time.time()
    fp32 = OnnxStreamingRecognizer(model, frame_size, threads=args.threads)
    int8 = (LabRunner if below_minimum else OnnxStreamingRecognizer)(
        model,
        frame_size,
        threads=args.threads,
        precision='int8',
        calibration=clips,
        scheme=SCHEMES[args.scheme])
    build_s = time.time() - start
    fp32_scores = stream_val(fp32, inputs, stride)
    int8_scores = stream_val(int8, inputs, stride)
    results = figures(fp32_scores, int8_scores, labels)

    package = int8.save_package(work / 'packages' / f'{run_name}_int8.onnx')
    loaded = PackagedStreamRunner(package, threads=args.threads)
    loaded_scores = stream_val(loaded, inputs.numpy(), stride)
    agreement, _, _ = frame_agreement(int8_scores, loaded_scores)
    record = dict(
        environment,
        command=command_line('benchmarks.int8_accuracy', argv),
        recipe=args.recipe,
        seed=args.seed,
        data_seed=args.data_seed,
        epochs=args.epochs,
        videos_per_class=args.videos_per_class,
        val_per_class=args.val_per_class,
        training=training,
        stride=stride,
        frame_size=list(frame_size),
        calibration=dict(
            int8.calibration,
            videos=len(sources),
            sources=[Path(s).name for s in sources],
            below_minimum=below_minimum),
        build_s=round(build_s, 1),
        figures=results,
        targets=dict(
            top1_within=TOP1_WITHIN, agreement_at_least=AGREEMENT_AT_LEAST),
        package=dict(
            file=str(package),
            max_score_difference=float(
                np.abs(loaded_scores - int8_scores).max()),
            per_frame_agreement=agreement),
        per_frame=dict(
            labels=[int(v) for v in labels],
            fp32_top1=fp32_scores.argmax(-1).tolist(),
            int8_top1=int8_scores.argmax(-1).tolist()))
    tag = f'seed{args.seed}'
    if args.scheme != 'default':
        tag += f'_{args.scheme}'
    if args.calibration_inputs * args.calibration_videos != 128:
        tag += f'_{frames}frames'
    path = write_record(Path(args.out), record, tag=tag)
    print(
        f'top-1 after the last frame: fp32 {results["top1_fp32"]:.4f}, int8 '
        f'{results["top1_int8"]:.4f}; per-frame agreement '
        f'{results["per_frame_agreement"]:.4f} ({results["agreeing_frames"]}'
        f' of {results["frames_compared"]}); largest score difference '
        f'{results["max_score_difference"]:.3g}; targets met: '
        f'{results["targets_met"]}\nrecord: {path}',
        flush=True)
    return record


if __name__ == '__main__':
    main()
