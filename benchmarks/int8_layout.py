"""What a channels-last state would give the int8 frame step (OURS, lab).

ONNX Runtime runs the int8 convolutions channels-last (NHWC) and inserts a
``Transpose`` wherever one meets a float operator that reads or writes the
channels-first (NCHW) state: on two threads those transposes are the
largest of the operators between the int8 kernels
(:mod:`benchmarks.int8_profile`). This script measures how much of that a
channels-last state would remove, without changing the plugin: it rewrites
the exported fp32 frame step so that every 4-D state input and output is
declared NHWC, with an explicit ``Transpose`` to and from NCHW at the
graph's edges (:func:`channels_last_state`), quantizes it with the default
:class:`~img_mmaction.deploy.onnx_quantize.QuantScheme` on the same
calibration frames (their state transposed), and lets ONNX Runtime's
transpose optimiser cancel what it can.

Four sessions of one model (:mod:`benchmarks.online_int8`'s causal
Res2NetIMG-50 at 224, random weights, BN statistics on footage), each
frame taken by all four in turn (the order reversed every frame; state
carried by the fp32 graph, :func:`benchmarks.int8_profile.stream_feeds`):
fp32 and int8 as the runners build them, and both with the channels-last
state. Per session: the median ms of a frame, its ratio to the fp32
graph's, the ``Transpose`` nodes of ONNX Runtime's optimised graph (and
where they sit: :func:`transposes`), and the largest difference of the
pooled features from the session's own layout twin. Each run is written as
a new JSON record under ``--out``.

Usage::

    python -m benchmarks.int8_layout
"""
from __future__ import annotations
import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from benchmarks.int8_profile import stream_feeds
from benchmarks.int8_schemes import calibration_clips, evaluation_clips
from benchmarks.online_int8 import (add_model_arguments, build_model,
                                    describe_model)
from benchmarks.records import command_line, run_environment, write_record

if TYPE_CHECKING:
    import onnx

MODULE = 'benchmarks.int8_layout'
#: NCHW -> NHWC and back.
TO_NHWC, TO_NCHW = (0, 2, 3, 1), (0, 3, 1, 2)
SESSIONS = ('fp32', 'fp32 channels-last state', 'int8',
            'int8 channels-last state')

Feeds = Dict[str, np.ndarray]


def _nhwc_dims(value: 'onnx.ValueInfoProto') -> None:
    """Reorders a 4-D value's declared dims from NCHW to NHWC."""
    dims = value.type.tensor_type.shape.dim
    reordered = [type(dims[0])() for _ in range(4)]
    for target, index in zip(reordered, TO_NHWC):
        target.CopyFrom(dims[index])
    del dims[:]
    dims.extend(reordered)


def channels_last_state(graph: bytes) -> Tuple[bytes, List[str]]:
    """The frame step with its 4-D state inputs and outputs in NHWC.

    Each such input ``x`` is read through a new ``Transpose`` to NCHW
    (``x/nchw``); each such output is written through a ``Transpose`` from
    the NCHW value the graph computes. ``frames`` stays NCHW.

    Args:
        graph: The fp32 frame step (ONNX bytes).

    Returns:
        ``(graph, names)``: the rewritten graph (ONNX bytes) and the names
        of the inputs made NHWC (the state names; the outputs are
        ``next/`` + each).
    """
    import onnx
    from onnx import helper
    model = onnx.load_from_string(graph)
    nodes = model.graph.node
    first, last, names = [], [], []
    for value in model.graph.input:
        if (len(value.type.tensor_type.shape.dim) != 4
                or value.name == 'frames'):
            continue
        inner = value.name + '/nchw'
        for node in nodes:
            node.input[:] = [
                inner if x == value.name else x for x in node.input
            ]
        first.append(
            helper.make_node(
                'Transpose', [value.name], [inner],
                perm=list(TO_NCHW),
                name=value.name + '/to_nchw'))
        _nhwc_dims(value)
        names.append(value.name)
    for value in model.graph.output:
        if len(value.type.tensor_type.shape.dim) != 4:
            continue
        inner = value.name + '/nchw'
        for node in nodes:
            node.output[:] = [
                inner if x == value.name else x for x in node.output
            ]
            node.input[:] = [
                inner if x == value.name else x for x in node.input
            ]
        last.append(
            helper.make_node(
                'Transpose', [inner], [value.name],
                perm=list(TO_NHWC),
                name=value.name + '/to_nhwc'))
        _nhwc_dims(value)
    ordered = first + list(nodes) + last
    del nodes[:]
    nodes.extend(ordered)
    return model.SerializeToString(), names


def channels_last_feeds(feeds: Sequence[Feeds],
                        names: Sequence[str]) -> List[Feeds]:
    """``feeds`` with the tensors ``names`` transposed NCHW -> NHWC."""
    return [{
        key:
        np.ascontiguousarray(value.transpose(TO_NHWC))
        if key in names else value
        for key, value in feed.items()
    } for feed in feeds]


def transposes(session_graph: Path) -> Dict[str, int]:
    """``Transpose`` nodes of an optimised graph ONNX Runtime wrote, by
    where they sit.

    Returns:
        Counts by neighbour: the module of the int8 convolution a
        transpose reads or feeds (e.g. ``'conv_trans'``), else
        ``'PRODUCER->CONSUMER'`` op types.
    """
    import onnx
    graph = onnx.load(str(session_graph), load_external_data=False).graph
    producers = {out: node for node in graph.node for out in node.output}
    consumers: Dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    counts: Dict[str, int] = {}
    for node in graph.node:
        if node.op_type != 'Transpose':
            continue
        producer = producers.get(node.input[0])
        readers = consumers.get(node.output[0], [])
        convs = [
            n for n in [producer] + readers
            if n is not None and n.op_type == 'QLinearConv'
        ]
        if convs:
            # '/backbone/layer1/layer1.0/cmem/conv_trans/Conv_token_9'
            key = convs[0].name.split('/')[-2]
        else:
            key = (f'{producer.op_type if producer else "input"}->'
                   f'{readers[0].op_type if readers else "output"}')
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def build_sessions(
    model: torch.nn.Module,
    size: int,
    threads: int,
    calibration_frames: int,
    eval_frames: int,
    folder: Path,
    spin: bool = False
) -> Tuple[Dict[str, object], Dict[str, List[Feeds]], Dict[str, Dict[
        str, int]], dict]:
    """The four sessions, the feeds each takes, their optimised graphs'
    transposes and the int8 calibration summary.

    ``spin``: the sessions' workers spin while a run lasts
    (:func:`~img_mmaction.deploy.packaged_stream.package_session_options`),
    as ``PackagedStreamRunner(spin=True)``'s."""
    from img_mmaction.deploy.onnx_quantize import QuantScheme, quantize_graph
    from img_mmaction.deploy.onnx_stream import OnnxStreamingRecognizer
    from img_mmaction.deploy.packaged_stream import (cpu_session,
                                                     package_session_options)
    fp32 = OnnxStreamingRecognizer(
        model, (size, size), threads=threads, save_to=folder / 'fp32.onnx')
    graph = (folder / 'fp32.onnx').read_bytes()
    last, names = channels_last_state(graph)
    calibration = stream_feeds(fp32, calibration_clips(calibration_frames,
                                                       size))
    feeds = stream_feeds(fp32, evaluation_clips(eval_frames, size))
    graphs = {
        'fp32':
        graph,
        'fp32 channels-last state':
        last,
        'int8':
        quantize_graph(graph, calibration, QuantScheme()),
        'int8 channels-last state':
        quantize_graph(last, channels_last_feeds(calibration, names),
                       QuantScheme()),
    }
    sessions, counts = {}, {}
    for index, (name, step) in enumerate(graphs.items()):
        options = package_session_options(threads, spin=spin)
        options.optimized_model_filepath = str(folder / f'opt{index}.onnx')
        options.log_severity_level = 3  # not the note that it is CPU-only
        sessions[name] = cpu_session(step, options)
        counts[name] = transposes(folder / f'opt{index}.onnx')
    inputs = {
        name:
        channels_last_feeds(feeds, names) if 'channels-last' in name else feeds
        for name in SESSIONS
    }
    summary = dict(
        frames=len(calibration), state_made_channels_last=len(names))
    return sessions, inputs, counts, summary


def alternate(sessions: Dict[str, object], inputs: Dict[str, List[Feeds]],
              repeats: int) -> Tuple[Dict[str, float], Dict[str, float]]:
    """Every frame through the four sessions in turn, ``repeats`` times.

    Returns:
        ``(median ms, largest |features - twin's features|)`` by session
        (the twin: the same precision in the other layout).
    """
    times: Dict[str, List[float]] = {name: [] for name in sessions}
    features: Dict[str, List[np.ndarray]] = {name: [] for name in sessions}
    frames = len(inputs['fp32'])
    for repeat in range(repeats):
        for index in range(frames):
            order = list(sessions) if index % 2 else list(sessions)[::-1]
            for name in order:
                start = time.perf_counter()
                outputs = sessions[name].run(None, inputs[name][index])
                times[name].append(time.perf_counter() - start)
                if repeat == 0:
                    features[name].append(outputs[0])
    fp32, fp32_last, int8, int8_last = SESSIONS
    twin = {fp32: fp32_last, fp32_last: fp32, int8: int8_last, int8_last: int8}
    return ({
        name: round(1000 * statistics.median(values), 3)
        for name, values in times.items()
    }, {
        name:
        float(
            np.abs(np.stack(features[name]) -
                   np.stack(features[twin[name]])).max())
        for name in sessions
    })


def format_table(rows: Dict[str, dict]) -> str:
    """Markdown: one row per session."""
    lines = [
        '| frame step | median ms | / fp32 | Transpose nodes (optimised) | '
        'features: max diff from the other layout |', '|---|---|---|---|---|'
    ]
    for name, row in rows.items():
        lines.append(f'| {name} | {row["median_ms"]:.2f} | '
                     f'{row["ratio"]:.3f} | {row["transposes"]} | '
                     f'{row["max_diff_from_twin"]:.3g} |')
    return '\n'.join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_model_arguments(parser)
    parser.add_argument(
        '--frames',
        type=int,
        default=16,
        help='frames of each footage video (3 clips)')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument(
        '--spin',
        action='store_true',
        help='the workers spin while a run lasts, as '
        'PackagedStreamRunner(spin=True)')
    parser.add_argument('--out', default='benchmarks/records/int8_layout')
    return parser


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Command line entry point; returns the record it wrote."""
    from img_mmaction.utils import register_all_modules
    register_all_modules()  # the plugin (compat fixes) and MMAction2
    args = build_parser().parse_args(argv)
    environment = run_environment()
    torch.set_num_threads(args.threads)
    model = build_model(args.model, args.size, args.bn_stats)
    with tempfile.TemporaryDirectory() as folder:
        sessions, inputs, counts, summary = build_sessions(
            model, args.size, args.threads, args.calibration_frames,
            args.frames, Path(folder), args.spin)
        medians, diffs = alternate(sessions, inputs, args.repeats)
    rows = {
        name:
        dict(
            median_ms=medians[name],
            ratio=round(medians[name] / medians['fp32'], 4),
            transposes=sum(counts[name].values()),
            transposes_by_neighbour=counts[name],
            max_diff_from_twin=diffs[name])
        for name in SESSIONS
    }
    record = dict(
        environment,
        command=command_line(MODULE, argv),
        model=describe_model(args),
        frame_size=[args.size, args.size],
        threads=args.threads,
        spin=args.spin,
        timed_frames=args.repeats * len(inputs['fp32']),
        calibration=summary,
        sessions=rows,
        table=format_table(rows),
        load_average_end=[round(v, 2) for v in os.getloadavg()])
    print('\n' + record['table'])
    print(f'record: {write_record(Path(args.out), record, args.model)}')
    return record


if __name__ == '__main__':
    main()
