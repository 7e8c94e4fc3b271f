"""Where the time of IMG's frame step goes, fp32 and int8 (OURS).

:mod:`benchmarks.online_int8` measures the int8 / fp32 ratio of the causal
frame step; this script says where each precision spends its frame, at
each of ``--threads``, from ONNX Runtime's own profiler: the kernel time
of every node, summed by op type over the timed frames and divided by
their number, and the op types in four groups (:data:`GROUPS`): the int8
kernels, the float convolutions, the layout and quantization operators
that ONNX Runtime and the quantizer insert (transposes to and from the
int8 kernels' channels-last layout, QuantizeLinear and DequantizeLinear
around the float operators, the blocked-layout reorders of the fp32
graph), and the rest (IMG's float motion operations, the residual adds,
the pools).

The model and both runners are :mod:`benchmarks.online_int8`'s (the latency
benchmark's causal Res2NetIMG-50 at 224, random weights, BN statistics on
footage; int8 calibrated on footage frames). Each precision's graph runs
on a profiled session (:func:`~img_mmaction.deploy.packaged_stream.
cpu_session` with the runners' :func:`~img_mmaction.deploy.onnx_stream.
session_options`) over the same consecutive footage frames with the state
the fp32 graph carries from frame to frame, one clip per footage video;
the first ``--warmup`` frames of each session are not counted. The
profiler adds its own cost to each node, so its totals exceed the frame
times of :mod:`benchmarks.online_int8`: read it for shares, not for
ratios. Each run is written as a new JSON record under ``--out``.

Usage::

    python -m benchmarks.int8_profile
    python -m benchmarks.int8_profile --threads 2 --frames 8
"""
from __future__ import annotations
import argparse
import bisect
import json
import os
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from benchmarks.int8_schemes import calibration_clips, evaluation_clips
from benchmarks.online_int8 import (PRECISIONS, add_model_arguments,
                                    build_model, describe_model)
from benchmarks.records import command_line, run_environment, write_record

MODULE = 'benchmarks.int8_profile'
#: The op types of each group; every other op type is in :data:`REST`.
GROUPS: Dict[str, Tuple[str, ...]] = {
    'int8 kernels': ('QLinearConv', 'QLinearAdd'),
    'float convolutions': ('Conv', 'FusedConv'),
    'layout and quantization':
    ('Transpose', 'QuantizeLinear', 'DequantizeLinear', 'ReorderInput',
     'ReorderOutput'),
}
REST = 'float operations (IMG\'s motion operations, adds, pools, ...)'
#: Op types below this share of every profile's total are left out of the
#: op-type table (they stay in the record and in their group).
TABLE_SHARE = 0.01

Feeds = Dict[str, np.ndarray]


def group_of(op_type: str) -> str:
    """The group of ``op_type`` (:data:`GROUPS`, else :data:`REST`)."""
    for group, members in GROUPS.items():
        if op_type in members:
            return group
    return REST


def kernel_times(events: Sequence[dict],
                 skip_runs: int) -> Tuple[Dict[str, float], int]:
    """Kernel microseconds by op type from an ONNX Runtime profile.

    Args:
        events: The profile's events (its JSON file, loaded).
        skip_runs: Model runs not counted (the first ones).

    Returns:
        ``(microseconds by op type, runs counted)``: the summed durations
        of the node kernels that ran within the counted runs.
    """
    runs = sorted((event['ts'], event['ts'] + event['dur']) for event in events
                  if event.get('cat') == 'Session'
                  and event.get('name') == 'model_run')[skip_runs:]
    starts = [start for start, _ in runs]
    totals: Counter = Counter()
    for event in events:
        if (event.get('cat') != 'Node'
                or not event.get('name', '').endswith('_kernel_time')):
            continue
        index = bisect.bisect_right(starts, event['ts']) - 1
        if index >= 0 and event['ts'] <= runs[index][1]:
            totals[event['args']['op_name']] += event['dur']
    return dict(totals), len(runs)


def profile(graph: Path, threads: int, feeds: Sequence[Feeds], warmup: int,
            folder: Path) -> dict:
    """One profiled session of ``graph`` over ``feeds``.

    Args:
        graph: The frame step's ONNX file.
        threads: Intra-op threads.
        feeds: Consecutive frames with their state, clip after clip.
        warmup: Frames run first and not counted.
        folder: Where the profiler writes its file.

    Returns:
        ``ms_by_op`` (kernel ms per counted frame, by op type),
        ``ms_by_group``, ``kernel_ms`` (their total), ``frames`` (counted)
        and ``wall_ms_median`` (of the counted runs, profiler included).
    """
    from img_mmaction.deploy.onnx_stream import session_options
    from img_mmaction.deploy.packaged_stream import cpu_session
    options = session_options(threads)
    options.enable_profiling = True
    options.profile_file_prefix = str(folder / f'{graph.stem}_{threads}')
    session = cpu_session(graph, options)
    walls = []
    for index, feed in enumerate(feeds):
        start = time.perf_counter()
        session.run(None, feed)
        if index >= warmup:
            walls.append(1000 * (time.perf_counter() - start))
    events = json.loads(Path(session.end_profiling()).read_text())
    micros, frames = kernel_times(events, warmup)
    ms_by_op = {
        op: round(us / 1000 / frames, 4)
        for op, us in sorted(micros.items(), key=lambda kv: -kv[1])
    }
    by_group: Counter = Counter()
    for op, ms in ms_by_op.items():
        by_group[group_of(op)] += ms
    return dict(
        ms_by_op=ms_by_op,
        ms_by_group={g: round(by_group[g], 4)
                     for g in list(GROUPS) + [REST]},
        kernel_ms=round(sum(ms_by_op.values()), 4),
        frames=frames,
        wall_ms_median=round(float(np.median(walls)), 3))


def stream_feeds(runner, clips: Sequence[torch.Tensor]) -> List[Feeds]:
    """The frame step's inputs for each frame of ``clips``, the state the
    fp32 graph carries included (:func:`~img_mmaction.deploy.
    onnx_quantize.calibration_feeds`)."""
    from img_mmaction.deploy.onnx_quantize import (calibration_feeds,
                                                   preprocessed_clips)
    return calibration_feeds(runner.session,
                             preprocessed_clips(runner.model, clips),
                             runner.zero_state)


def _column(precision: str, threads: str) -> str:
    """``'int8, 2 threads'``."""
    return f'{precision}, {threads} thread{"s" if threads != "1" else ""}'


def format_table(profiles: Dict[str, Dict[str, dict]]) -> str:
    """The groups, then the op types above :data:`TABLE_SHARE`, in kernel
    ms per frame for each precision and thread count."""
    columns = [(p, t) for p in profiles for t in profiles[p]]
    header = ('| | ' + ' | '.join(_column(p, t) for p, t in columns) + ' |\n' +
              '|---' * (len(columns) + 1) + '|')
    rows = []
    for group in list(GROUPS) + [REST]:
        cells = []
        for p, t in columns:
            entry = profiles[p][t]
            share = entry['ms_by_group'][group] / entry['kernel_ms']
            cells.append(f'{entry["ms_by_group"][group]:.2f} '
                         f'({100 * share:.0f} %)')
        rows.append(f'| {group} | ' + ' | '.join(cells) + ' |')
    rows.append('| **all kernels** | ' +
                ' | '.join(f'**{profiles[p][t]["kernel_ms"]:.2f}**'
                           for p, t in columns) + ' |')
    shown = [
        op for op in sorted(
            {op
             for p, t in columns
             for op in profiles[p][t]['ms_by_op']})
        if any(profiles[p][t]['ms_by_op'].get(op, 0) >= TABLE_SHARE *
               profiles[p][t]['kernel_ms'] for p, t in columns)
    ]
    last = columns[-1]
    shown.sort(
        key=lambda op: -profiles[last[0]][last[1]]['ms_by_op'].get(op, 0))
    for op in shown:
        rows.append(f'| {op} ({group_of(op).split(" (")[0]}) | ' +
                    ' | '.join(f'{profiles[p][t]["ms_by_op"].get(op, 0):.2f}'
                               for p, t in columns) + ' |')
    return header + '\n' + '\n'.join(rows)


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_model_arguments(parser)
    parser.add_argument(
        '--frames',
        type=int,
        default=16,
        help='frames of each footage video (3 clips)')
    parser.add_argument(
        '--warmup', type=int, default=4, help='frames not counted')
    parser.add_argument('--threads', type=int, nargs='+', default=[1, 2])
    parser.add_argument('--out', default='benchmarks/records/int8_profile')
    return parser


def run_benchmark(args: argparse.Namespace) -> dict:
    """Builds both frame steps, profiles them and returns the record."""
    from img_mmaction.deploy.onnx_stream import OnnxStreamingRecognizer
    environment = run_environment()
    model = build_model(args.model, args.size, args.bn_stats)
    size = (args.size, args.size)
    profiles: Dict[str, Dict[str, dict]] = {p: {} for p in PRECISIONS}
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        fp32 = OnnxStreamingRecognizer(
            model, size, threads=1, save_to=folder / 'fp32.onnx')
        int8 = OnnxStreamingRecognizer(
            model,
            size,
            threads=1,
            precision='int8',
            calibration=calibration_clips(args.calibration_frames, args.size),
            save_to=folder / 'int8.onnx')
        feeds = stream_feeds(fp32, evaluation_clips(args.frames, args.size))
        for threads in args.threads:
            torch.set_num_threads(threads)
            for precision in PRECISIONS:
                profiles[precision][str(threads)] = profile(
                    folder / f'{precision}.onnx', threads, feeds, args.warmup,
                    folder)
            print(f'{threads} thread(s): profiled', flush=True)
    return dict(
        environment,
        model=describe_model(args),
        frame_size=list(size),
        calibration=int8.calibration,
        groups=dict({
            g: list(ops)
            for g, ops in GROUPS.items()
        }, rest=REST),
        profiles=profiles,
        table=format_table(profiles),
        load_average_end=[round(v, 2) for v in os.getloadavg()])


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Command line entry point; returns the record it wrote."""
    from img_mmaction.utils import register_all_modules
    register_all_modules()  # the plugin (compat fixes) and MMAction2
    args = build_parser().parse_args(argv)
    record = run_benchmark(args)
    record['command'] = command_line(MODULE, argv)
    print('\n' + record['table'])
    print(f'record: {write_record(Path(args.out), record, args.model)}')
    return record


if __name__ == '__main__':
    main()
