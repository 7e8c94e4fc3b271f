"""Packages with and without spinning, side by side (OURS).

``PackagedStreamRunner(spin=True)`` lets ONNX Runtime's intra-op workers
spin between the parallel parts of a run and stop when it ends; the
default lets them sleep. This script measures both on the fp32 and the
int8 package of the causal Res2NetIMG-50 (:mod:`benchmarks.online_int8`'s
model, runners and calibration), in one process with nothing but NumPy
and ONNX Runtime running between the steps: the four runners (precision x
setting) stream each footage clip alternately frame by frame (the order
reversed every frame, the first two frames of a clip not timed), one
stream each. Per thread count: the median ms of each runner, the int8 /
fp32 ratio per setting, and how much faster spinning is per precision.
Each run is written as a new JSON record under ``--out``.

Usage::

    python -m benchmarks.package_spinning
    python -m benchmarks.package_spinning --model tiny --size 56 --frames 4
"""
from __future__ import annotations
import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from benchmarks.int8_schemes import evaluation_clips
from benchmarks.online_int8 import PRECISIONS, build_model, build_runner
from benchmarks.records import command_line, run_environment, write_record

if TYPE_CHECKING:
    from img_mmaction.deploy.packaged_stream import PackagedStreamRunner

MODULE = 'benchmarks.package_spinning'
#: The runners: (precision, spin).
RUNNERS: Tuple[Tuple[str, bool], ...] = tuple(
    (precision, spin) for precision in PRECISIONS for spin in (False, True))


def label(precision: str, spin: bool) -> str:
    """``'int8, spin'`` or ``'fp32, no spin'``."""
    return f"{precision}, {'spin' if spin else 'no spin'}"


def save_packages(args: argparse.Namespace, folder: Path) -> Dict[str, Path]:
    """The fp32 and the int8 package of the model.

    Args:
        args: The command line (``--model``, ``--size``,
            ``--calibration-frames``).
        folder: Where the two files go.

    Returns:
        The package file of each precision.
    """
    model = build_model(args.model, args.size, 'footage')
    return {
        precision:
        build_runner(model, args.size, 1, precision,
                     args.calibration_frames).save_package(folder /
                                                           f'{precision}.onnx')
        for precision in PRECISIONS
    }


def stream_side_by_side(runners: Dict[str, 'PackagedStreamRunner'],
                        clips: Sequence[np.ndarray]) -> Dict[str, List[float]]:
    """Every clip through every runner, alternating frame by frame.

    Args:
        runners: The runners, by :func:`label`.
        clips: Raw frames [T, 3, H, W] of each footage clip.

    Returns:
        Seconds of each timed step, by runner label.
    """
    times: Dict[str, List[float]] = {name: [] for name in runners}
    names = list(runners)
    for clip in clips:
        for runner in runners.values():
            runner.reset()
        for t in range(clip.shape[0]):
            for name in (names if t % 2 else names[::-1]):
                start = time.perf_counter()
                runners[name].step(clip[t:t + 1])
                if t >= 2:
                    times[name].append(time.perf_counter() - start)
    return times


def measure(packages: Dict[str, Path], clips: Sequence[np.ndarray],
            threads: int, repeats: int) -> dict:
    """The four runners at ``threads``, ``repeats`` passes over ``clips``.

    Args:
        packages: The package file of each precision.
        clips: Raw frames [T, 3, H, W] of each footage clip.
        threads: Intra-op threads of every runner.
        repeats: Passes over the clips.

    Returns:
        ``timed_frames`` (per runner), ``median_ms`` (by runner label),
        ``int8_over_fp32`` (per setting) and ``spin_over_no_spin`` (per
        precision).
    """
    from img_mmaction.deploy.packaged_stream import PackagedStreamRunner
    runners = {
        label(precision, spin):
        PackagedStreamRunner(packages[precision], threads=threads, spin=spin)
        for precision, spin in RUNNERS
    }
    times: Dict[str, List[float]] = {name: [] for name in runners}
    for _ in range(repeats):
        for name, values in stream_side_by_side(runners, clips).items():
            times[name] += values
    median = {
        name: 1000 * statistics.median(values)
        for name, values in times.items()
    }
    return dict(
        timed_frames=len(times[label('fp32', False)]),
        median_ms=median,
        int8_over_fp32={
            setting: median[label('int8', spin)] / median[label('fp32', spin)]
            for setting, spin in (('no spin', False), ('spin', True))
        },
        spin_over_no_spin={
            precision:
            median[label(precision, True)] / median[label(precision, False)]
            for precision in PRECISIONS
        })


def format_table(results: Dict[str, dict]) -> str:
    """The Markdown table of a run."""
    lines = [
        '| threads | fp32 ms, no spin / spin | int8 ms, no spin / spin | '
        'int8 / fp32, no spin / spin | spin / no spin, fp32 / int8 |',
        '|---|---|---|---|---|'
    ]
    for threads, row in results.items():
        ms, ratio = row['median_ms'], row['int8_over_fp32']
        spin = row['spin_over_no_spin']
        lines.append(
            f'| {threads} | '
            f"{ms[label('fp32', False)]:.1f} / {ms[label('fp32', True)]:.1f} "
            f"| {ms[label('int8', False)]:.1f} / "
            f"{ms[label('int8', True)]:.1f} | "
            f"{ratio['no spin']:.3f} / {ratio['spin']:.3f} | "
            f"{spin['fp32']:.3f} / {spin['int8']:.3f} |")
    return '\n'.join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--model', choices=('r50', 'tiny'), default='r50')
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--threads', type=int, nargs='+', default=[2])
    parser.add_argument(
        '--frames', type=int, default=16, help='frames of each footage clip')
    parser.add_argument('--repeats', type=int, default=2)
    parser.add_argument('--calibration-frames', type=int, default=32)
    parser.add_argument('--out', default='benchmarks/records/package_spinning')
    return parser


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Command line entry point; returns the record."""
    from img_mmaction.utils import register_all_modules
    register_all_modules()  # the plugin (compat fixes) and MMAction2
    args = build_parser().parse_args(argv)
    torch.set_flush_denormal(True)
    record = run_environment()
    # each clip: raw frames [T, 3, size, size] as NumPy
    clips = [clip.numpy() for clip in evaluation_clips(args.frames, args.size)]
    with tempfile.TemporaryDirectory() as folder:
        packages = save_packages(args, Path(folder))
        results = {
            str(threads): measure(packages, clips, threads, args.repeats)
            for threads in args.threads
        }
    record.update(
        command=command_line(MODULE, argv),
        model=f'{args.model} causal, random weights, BN statistics on '
        'footage clips',
        frame_size=[args.size, args.size],
        results=results,
        table=format_table(results),
        load_average_end=run_environment()['load_average'])
    print(record['table'])
    print(json.dumps({t: r['int8_over_fp32'] for t, r in results.items()}))
    print(f"record: {write_record(Path(args.out), record, 'packages')}")
    return record


if __name__ == '__main__':
    main()
