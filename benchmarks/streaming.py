"""Per-frame cost of streaming vs re-running the window at every frame.

OUR measurement (docs/online.md). A causal IMG recognizer (Res2NetIMG-50
with causal CMEM and causal adaptive shift, TSMHead, 174 classes; or the
tiny demo one) gives a new prediction at every frame of a stream in two
ways:

* ``stream``: :class:`~img_mmaction.models.StreamingRecognizer`, one frame
  through the network plus the per-layer caches;
* ``window``: the webcam-demo way, the model run on the last
  ``--window`` frames (``test_step`` of the offline model with
  ``num_segments=window``, same weights) at every frame.

Both include the data preprocessor, at batch 1 (one stream), and each runs
in every memory layout of ``--layouts`` (Res2NetIMG's per-stage
``channels_last``; the fastest layout depends on the batch): one row per
mode and layout, each stream row compared with the FASTEST window row.
With ``--runtime onnxruntime`` both modes run as ONNX graphs in ONNX
Runtime instead (the stream:
:class:`~img_mmaction.deploy.onnx_stream.OnnxStreamingRecognizer`; the
window: backbone and head exported for ``--window`` frames), one row each.
Reported:

* latency: median and 90th percentile of ``--repeats`` frames after
  ``--warmup``, the two modes alternating frame by frame in ONE process so
  that drift and other load hit both alike;
* memory: each mode in a fresh process (``python -m`` this module
  ``--memory-of MODE``), the peak resident set size (VmHWM, reset after the
  model is built) while it runs ``--memory-frames`` frames, minus the
  resident size of the built model: what the mode needs on top of the
  weights; and the bytes the runner keeps between frames;
* page faults per prediction (median): pages the allocator gave back to
  the system and takes again at every prediction. With glibc's defaults
  the window's large activations are unmapped after each prediction and
  faulted in again at the next. The allocator settings (the variables of
  :data:`~img_mmaction.utils.environment.ALLOCATOR_VARIABLES` that are
  set, e.g. ``GLIBC_TUNABLES``) are part of the record;
* GFLOPs per prediction (mmengine's counter on the backbone and head);
* the largest difference between the streamed scores after ``--window``
  frames, in every layout, and the window's scores on those frames (the
  equivalence check at full size, across layouts);
* the load average (``os.getloadavg``) before and after: the machine may be
  shared;
* with ``--stages``, each backbone stage's median time per frame inside the
  timed predictions (forward hooks on the stages; a window prediction's
  divided by its frames): where the stream loses against the window.

Usage::

    python -m benchmarks.streaming                # Res2NetIMG-50, 224
    python -m benchmarks.streaming --model tiny --size 56
    python -m benchmarks.streaming --repeats 30 --json streaming.json
    python -m benchmarks.streaming --skip-memory  # latency only
    python -m benchmarks.streaming --layouts channels_last
    python -m benchmarks.streaming --stages       # per stage too
    python -m benchmarks.streaming --runtime onnxruntime
    # glibc keeping freed memory (NO_TRIM_TUNABLES): no page faults
    GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:\
glibc.malloc.trim_threshold=4294967295 python -m benchmarks.streaming
"""
from __future__ import annotations
import argparse
import dataclasses
import datetime
import functools
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmaction.structures import ActionDataSample
from torch.utils.hooks import RemovableHandle

from benchmarks.memory import (minor_faults, peak_extra_memory,
                               release_free_memory)
from img_mmaction.deploy.onnx_stream import (RUNTIMES, OnnxStreamingRecognizer,
                                             session_options)
from img_mmaction.models import StreamingRecognizer
from img_mmaction.utils.environment import allocator, machine

#: The modes, one row each per layout (:func:`layout_modes` makes them).
MODES = ('stream', 'window')
#: Res2NetIMG ``channels_last`` values compared, by name: the recipes'
#: default, and channels_last for the stem and stages 1-2 with NCHW for
#: stages 3-4 (at batch 1 on CPU, oneDNN's channels_last 1x1 convolutions on
#: the 14x14 and 7x7 maps of stages 3-4 are the slow ones; docs/online.md).
LAYOUTS: Dict[str, Union[bool, Tuple[bool, ...]]] = {
    'channels_last': True,
    'nchw-stages-3-4': (True, True, False, False),
}
#: The layout column of ONNX Runtime's rows: it picks its own layouts (the
#: exported graph is the same for every ``channels_last``).
ONNX_ROW = 'onnxruntime'
MODULE = 'benchmarks.streaming'
#: glibc settings under which neither mode takes page faults: a fixed 32 MiB
#: mmap threshold and no trimming (docs/online.md, "The allocator").
NO_TRIM_TUNABLES = ('glibc.malloc.mmap_threshold=33554432:'
                    'glibc.malloc.trim_threshold=4294967295')

#: The memory figures of a row with ``--skip-memory``.
NOT_MEASURED = dict(
    rss_built_mib=float('nan'), peak_mib=float('nan'), extra_mib=float('nan'))
#: What runs a stream frame by frame: in PyTorch, or in ONNX Runtime.
Runner = Union[StreamingRecognizer, OnnxStreamingRecognizer]
#: The window's prediction: from a clip [window, 3, H, W] to its scores.
WindowRun = Callable[[torch.Tensor], torch.Tensor]


def row_name(mode: str, layout: str) -> str:
    """The key of one mode in one layout, e.g. ``'stream/channels_last'``."""
    return f'{mode}/{layout}'


def split_row_name(name: str) -> Tuple[str, str]:
    """The mode and the layout of a :func:`row_name`."""
    mode, layout = name.split('/')
    return mode, layout


def build_model(name: str,
                num_segments: int,
                layout: str = 'channels_last') -> nn.Module:
    """The causal recognizer ``name`` for clips of ``num_segments`` frames.

    Args:
        name: ``'r50'`` (Res2NetIMG-50, 26w_4s, TSMHead, 174 classes) or
            ``'tiny'`` (the online demo recipe's model).
        num_segments: Frames per clip.
        layout: A key of :data:`LAYOUTS`: the backbone's ``channels_last``.

    Returns:
        The model, in eval mode, seeded (weights are the same for any
        ``num_segments`` and layout).
    """
    from mmaction.registry import MODELS
    from mmengine.config import Config

    from benchmarks.speed import quiet_mmengine
    from img_mmaction.testing.reference_recognizers import res2net_img
    from img_mmaction.utils import config_path
    if name == 'r50':
        cfg = res2net_img(
            num_segments,
            cmem_cfg=dict(causal=True),
            temporal_cfg=dict(type='AdaptiveShift', causal=True))
    else:
        cfg = Config.fromfile(
            str(config_path(
                '_base_/models/img-causal_res2net-tiny.py'))).model.to_dict()
        cfg['backbone']['num_segments'] = num_segments
    cfg['backbone']['channels_last'] = LAYOUTS[layout]
    torch.manual_seed(0)
    with quiet_mmengine():  # init_weights logs every parameter
        model = MODELS.build(cfg)
        model.init_weights()
    return model.eval()


def _frames(count: int, size: int) -> torch.Tensor:
    """Raw pixel frames [count, 3, size, size] (values 0-255), seeded."""
    generator = torch.Generator().manual_seed(1)
    return torch.randint(
        0, 256, (count, 3, size, size), generator=generator).float()


class TorchWindow:
    """The window mode's prediction: the model on a whole clip, in PyTorch.

    ``test_step`` of the offline model: the data preprocessor, the backbone
    and the head.

    Args:
        model: The recognizer.
    """

    def __init__(self, model: nn.Module) -> None:
        self.model = model

    def __call__(self, clip: torch.Tensor) -> torch.Tensor:
        """The scores of a clip [T, 3, H, W] (raw pixels)."""
        with torch.no_grad():
            out = self.model.test_step(
                dict(inputs=[clip], data_samples=[ActionDataSample()]))
        return out[0].pred_score


class OnnxWindow:
    """:class:`TorchWindow` with the network in ONNX Runtime.

    The recognizer's backbone and head (``deploy.onnx.ScoresOnly``) on a
    clip of ``window`` frames are exported to ONNX; the data preprocessor
    and the head's ``average_clip`` stay in PyTorch, as in the stream.

    Args:
        model: The recognizer.
        window: Frames of the clip.
        size: Frame side.
    """

    def __init__(self, model: nn.Module, window: int, size: int) -> None:
        import tempfile
        from pathlib import Path

        import onnxruntime

        from img_mmaction.deploy.onnx import ScoresOnly, export
        self.model = model
        with tempfile.TemporaryDirectory() as folder:
            path = export(
                ScoresOnly(model, window).eval(), (window, 3, size, size),
                Path(folder) / 'window.onnx')
            self.session = onnxruntime.InferenceSession(
                str(path),
                session_options(),
                providers=['CPUExecutionProvider'])

    def __call__(self, clip: torch.Tensor) -> torch.Tensor:
        """The scores of a clip [window, 3, H, W] (raw pixels)."""
        with torch.no_grad():
            # [1, T, 3, H, W] -> [T, 3, H, W]
            frames = self.model.data_preprocessor(
                dict(inputs=[clip], data_samples=None))['inputs'][0]
            logits = self.session.run(None, dict(frames=frames.numpy()))[0]
            return self.model.cls_head.average_clip(
                torch.from_numpy(logits), num_segs=1)[0]


def build_runners(
    model_name: str,
    window: int,
    size: int,
    layout: str,
    runtime: str = 'torch',
    weights: Optional[Dict[str, torch.Tensor]] = None
) -> Tuple[nn.Module, Runner, WindowRun]:
    """The model, its stream runner and its window prediction in ``runtime``.

    Args:
        model_name: See :func:`build_model`.
        window: Frames of the window.
        size: Frame side.
        layout: A key of :data:`LAYOUTS`, or :data:`ONNX_ROW` (built in the
            default layout) with ``runtime='onnxruntime'``.
        runtime: A key of :data:`RUNTIMES`. Defaults to ``'torch'``.
        weights: Optional state dict loaded before the runners are made
            (ONNX Runtime's graphs hold a copy of the weights).

    Returns:
        The model, a :class:`~img_mmaction.models.StreamingRecognizer`
        (or its ONNX Runtime form), and a function from a clip
        [window, 3, H, W] to the window's scores.
    """
    model = build_model(model_name, window,
                        'channels_last' if layout == ONNX_ROW else layout)
    if weights is not None:
        model.load_state_dict(weights)
    if runtime == 'torch':
        return model, StreamingRecognizer(model), TorchWindow(model)
    return (model, OnnxStreamingRecognizer(model, (size, size)),
            OnnxWindow(model, window, size))


class StreamStep:
    """The stream mode's prediction at frame ``index``: one frame in.

    Args:
        runner: The stream runner.
        clip: Frames [T, 3, H, W]; frame ``index % T`` goes in.
    """

    def __init__(self, runner: Runner, clip: torch.Tensor) -> None:
        self.runner = runner
        self.clip = clip

    def __call__(self, index: int) -> torch.Tensor:
        """The runner's scores after the frame."""
        return self.runner.step(self.clip[index % len(self.clip)][None])


class WindowStep:
    """The window mode's prediction at any frame: the whole clip again.

    Args:
        window_run: The window's prediction (:class:`TorchWindow` or
            :class:`OnnxWindow`).
        clip: Frames [window, 3, H, W].
    """

    def __init__(self, window_run: WindowRun, clip: torch.Tensor) -> None:
        self.window_run = window_run
        self.clip = clip

    def __call__(self, index: int) -> torch.Tensor:
        """The window's scores (``index`` is not read)."""
        return self.window_run(self.clip)


def mode_step(mode: str, runner: Runner, window_run: WindowRun,
              clip: torch.Tensor) -> Callable[[int], torch.Tensor]:
    """The prediction of ``mode`` at each frame index.

    Args:
        mode: A key of :data:`MODES`.
        runner: The stream runner.
        window_run: The window's prediction.
        clip: The frames.

    Returns:
        A function of the frame index.
    """
    if mode == 'stream':
        return StreamStep(runner, clip)
    return WindowStep(window_run, clip)


def memory_of(mode: str,
              model_name: str,
              size: int,
              window: int,
              frames: int,
              layout: str = 'channels_last',
              runtime: str = 'torch') -> Dict[str, float]:
    """Peak extra resident memory of ``mode``, in this process.

    Call it in a fresh process (``--memory-of``): memory freed by another
    mode would be reused and hide this one's needs.

    Args:
        mode: ``'stream'`` or ``'window'``.
        model_name: See :func:`build_model`.
        size: Frame side.
        window: Frames of the window.
        frames: Frames to run.
        layout: See :func:`build_runners`.
        runtime: A key of :data:`RUNTIMES`.

    Returns:
        ``rss_built_mib`` (after building), ``peak_mib`` (VmHWM while
        running) and ``extra_mib`` (their difference).
    """
    _, runner, window_run = build_runners(model_name, window, size, layout,
                                          runtime)
    if runtime != 'torch':
        # The exports ran the model in PyTorch in this process: what they
        # freed would be reused by this mode and hide its needs.
        release_free_memory()
    step = mode_step(mode, runner, window_run, _frames(window, size))

    def run() -> None:
        for index in range(frames):
            step(index)

    return peak_extra_memory(run)


def _memory_in_child(mode: str, layout: str,
                     args: argparse.Namespace) -> Dict[str, float]:
    """Runs :func:`memory_of` in a fresh interpreter."""
    command = [
        sys.executable, '-W', 'ignore', '-m', MODULE, '--memory-of', mode,
        '--layouts', 'channels_last' if layout == ONNX_ROW else layout,
        '--runtime', args.runtime, '--model', args.model, '--size',
        str(args.size), '--window',
        str(args.window), '--memory-frames',
        str(args.memory_frames), '--threads',
        str(args.threads)
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f'memory run of {row_name(mode, layout)} '
                           'failed:\n'
                           f'{result.stderr[-2000:]}')
    return json.loads(result.stdout.strip().splitlines()[-1])


def gflops(model_name: str, frames: int, size: int) -> float:
    """GFLOPs of one prediction from ``frames`` frames (mmengine's count)."""
    from mmengine.analysis import get_model_complexity_info

    from benchmarks.speed import quiet_mmengine
    with quiet_mmengine():
        model = build_model(model_name, frames)
        info = get_model_complexity_info(
            model,
            input_shape=(frames, 3, size, size),
            show_table=False,
            show_arch=False)
    return info['flops'] / 1e9


def timed_call(call: Callable[[], object]) -> Tuple[float, Optional[int]]:
    """Runs ``call`` once.

    Returns:
        Its wall time in seconds, and the minor page faults it took (None
        off Unix).
    """
    faults_before = minor_faults()
    start = time.perf_counter()
    call()
    elapsed = time.perf_counter() - start
    if faults_before is None:
        return elapsed, None
    return elapsed, minor_faults() - faults_before


class StageTimer:
    """Wall time of every stage of a backbone, per call (forward hooks).

    Args:
        backbone: A backbone with ``res_layers`` (the names of its stages),
            e.g. Res2NetIMG.

    Attributes:
        times: Seconds of each call, per stage name, in call order.
    """

    def __init__(self, backbone: nn.Module) -> None:
        self.times: Dict[str, List[float]] = {
            name: []
            for name in backbone.res_layers
        }
        self._started: Dict[str, float] = {}
        self._handles: List[RemovableHandle] = []
        for name in backbone.res_layers:
            stage = getattr(backbone, name)
            self._handles.append(
                stage.register_forward_pre_hook(
                    functools.partial(self._begin, name)))
            self._handles.append(
                stage.register_forward_hook(
                    functools.partial(self._end, name)))

    def _begin(self, name: str, module: nn.Module, args: tuple) -> None:
        self._started[name] = time.perf_counter()

    def _end(self, name: str, module: nn.Module, args: tuple,
             output: object) -> None:
        self.times[name].append(time.perf_counter() - self._started[name])

    def remove(self) -> None:
        """Removes the hooks; ``times`` stays."""
        for handle in self._handles:
            handle.remove()
        self._handles = []


@dataclasses.dataclass
class Mode:
    """One row of the benchmark: a way to predict at every frame, built.

    Args:
        name: The row: :func:`row_name` of the mode and the layout.
        step: The prediction at a frame, ``step(index)``.
        state_mib: What the runner keeps between frames (MiB); 0 for a
            mode that keeps nothing.
        timer: Times the backbone's stages inside every call of ``step``
            (``--stages``), or None.
    """

    name: str
    step: Callable[[int], object]
    state_mib: float = 0.0
    timer: Optional[StageTimer] = None


def equivalence_gap(runner: Runner, window_run: WindowRun, clip: torch.Tensor,
                    reference: torch.Tensor) -> float:
    """Largest difference of the stream and the window to ``reference``.

    The stream runs every frame of ``clip`` (from its current state) and
    its last scores count; the window runs ``clip`` once.

    Args:
        runner: The stream runner.
        window_run: The window's prediction.
        clip: Frames [window, 3, H, W].
        reference: The scores to match [num_classes].

    Returns:
        The largest absolute difference of either.
    """
    for index in range(len(clip)):
        streamed = runner.step(clip[index][None])[0]
    gap = 0.0
    for scores in (streamed, window_run(clip)):
        gap = max(gap, float((scores - reference).abs().max()))
    return gap


def layout_modes(layout: str, model: nn.Module, runner: Runner,
                 window_run: WindowRun, clip: torch.Tensor,
                 stages: bool) -> List[Mode]:
    """The modes of :data:`MODES` in one layout, in row order.

    Made after the layout's equivalence check: from here on the stage
    timers count every call, and only timed predictions should count.

    Args:
        layout: The layout's name (the rows' second part).
        model: The offline model (the window's).
        runner: Its stream runner.
        window_run: Its window prediction.
        clip: The frames every prediction reads.
        stages: Also time the backbone's stages (:class:`StageTimer`).

    Returns:
        The stream, then the window.
    """
    stream = Mode(
        row_name('stream', layout), StreamStep(runner, clip),
        runner.state_nbytes() / 2**20)
    window = Mode(row_name('window', layout), WindowStep(window_run, clip))
    if stages:
        stream.timer = StageTimer(runner.model.backbone)
        window.timer = StageTimer(model.backbone)
    return [stream, window]


def build_modes(model_name: str,
                size: int,
                window: int,
                layouts: Sequence[str],
                runtime: str = 'torch',
                stages: bool = False) -> Tuple[List[Mode], float]:
    """Every mode in every layout, each checked before it is timed.

    One model per layout, all with the first one's weights. In each
    layout, the stream's scores after ``window`` frames and the window's
    scores are compared with PyTorch's window scores in the first layout
    (the equivalence check, :func:`equivalence_gap`), before the layout's
    modes are made (:func:`layout_modes`).

    Args:
        model_name: See :func:`build_model`.
        size: Frame side.
        window: Frames of the window.
        layouts: Keys of :data:`LAYOUTS`; with ``runtime='onnxruntime'``,
            ``[ONNX_ROW]``.
        runtime: A key of :data:`RUNTIMES`: where the modes run.
        stages: Also time each backbone stage (PyTorch only).

    Returns:
        The modes in row order (per layout, those of :data:`MODES`), and
        the largest difference of the equivalence checks.
    """
    clip = _frames(window, size)
    modes: List[Mode] = []
    max_abs_diff, weights, reference = 0.0, None, None
    for layout in layouts:
        model, runner, window_run = build_runners(model_name, window, size,
                                                  layout, runtime, weights)
        if weights is None:
            weights = model.state_dict()
            # PyTorch's window in the first layout: the reference.
            reference = TorchWindow(model)(clip)
        max_abs_diff = max(
            max_abs_diff, equivalence_gap(runner, window_run, clip, reference))
        modes += layout_modes(layout, model, runner, window_run, clip, stages)
    return modes, max_abs_diff


def measure_latency(
    modes: Sequence[Mode], warmup: int, repeats: int
) -> Tuple[Dict[str, List[float]], Dict[str, List[Optional[int]]]]:
    """Times every mode's prediction, alternating frame by frame.

    At each frame index every mode predicts once, in turn, in this process:
    drift and other load hit all modes alike.

    Args:
        modes: The modes.
        warmup: Frames first, not kept.
        repeats: Frames timed.

    Returns:
        Per row, the seconds of each timed prediction, and the minor page
        faults it took (None off Unix).
    """
    times: Dict[str, List[float]] = {mode.name: [] for mode in modes}
    faults: Dict[str, List[Optional[int]]] = {mode.name: [] for mode in modes}
    for index in range(warmup + repeats):
        for mode in modes:
            elapsed, taken = timed_call(functools.partial(mode.step, index))
            if index >= warmup:
                times[mode.name].append(elapsed)
                faults[mode.name].append(taken)
    return times, faults


def stage_times(modes: Sequence[Mode],
                warmup: int) -> Dict[str, Dict[str, List[float]]]:
    """Removes the modes' stage timers; their timed calls.

    Args:
        modes: The modes, with timers (``stages=True``).
        warmup: Predictions of the warm-up, dropped: each prediction runs
            each stage once.

    Returns:
        Per row, per stage, the seconds of each timed prediction's call.
    """
    timed = [mode for mode in modes if mode.timer is not None]
    for mode in timed:
        mode.timer.remove()
    return {
        mode.name: {
            stage: calls[warmup:]
            for stage, calls in mode.timer.times.items()
        }
        for mode in timed
    }


def time_modes(model_name: str,
               size: int,
               window: int,
               warmup: int,
               repeats: int,
               layouts: Sequence[str],
               stages: bool = False,
               runtime: str = 'torch') -> Dict[str, object]:
    """Latency of every mode in every layout, alternating frame by frame.

    :func:`build_modes` (with the equivalence check), then
    :func:`measure_latency`.

    Args:
        model_name: See :func:`build_model`.
        size: Frame side.
        window: Frames of the window.
        warmup: Frames first, not kept.
        repeats: Frames timed.
        layouts: Keys of :data:`LAYOUTS`; with ``runtime='onnxruntime'``,
            ``[ONNX_ROW]``.
        stages: Also time each backbone stage inside every prediction
            (:class:`StageTimer`; PyTorch only).
        runtime: A key of :data:`RUNTIMES`: where the modes run.

    Returns:
        ``{'times': {row_name: [s, ...]}, 'faults': {row_name: [count,
        ...]}, 'max_abs_diff': float, 'state_mib': {row_name: MiB}}``;
        faults are None off Unix. With ``stages``, also ``'stage_times':
        {row_name: {stage: [s, ...]}}``, one value per timed prediction.

    Raises:
        ValueError: ``stages`` with a runtime other than PyTorch.
    """
    if stages and runtime != 'torch':
        raise ValueError('time_modes: stages=True times PyTorch modules; '
                         f'not with runtime={runtime!r}')
    modes, max_abs_diff = build_modes(model_name, size, window, layouts,
                                      runtime, stages)
    times, faults = measure_latency(modes, warmup, repeats)
    result = dict(
        times=times,
        faults=faults,
        max_abs_diff=max_abs_diff,
        state_mib={mode.name: mode.state_mib
                   for mode in modes})
    if stages:
        result['stage_times'] = stage_times(modes, warmup)
    return result


def _runtime_line(runtime: str) -> str:
    """Where both modes ran, with the version."""
    if runtime == 'torch':
        return 'PyTorch (eager)'
    import onnxruntime
    return (f'ONNX Runtime {onnxruntime.__version__} (the preprocessor, the '
            'running average and the classifier in PyTorch)')


def _allocator_line() -> str:
    """The allocator variables set, ``NAME=value`` each, or the defaults."""
    settings = allocator()
    return ' '.join(
        f'{name}={value}'
        for name, value in settings.items()) or 'none set (the defaults)'


def page_fault_warning(rows: Dict[str, dict]) -> Optional[str]:
    """A warning naming the rows that take page faults; None when none do.

    A row that faults pays for memory the allocator gave back to the system,
    which the other mode may not: the comparison then measures the allocator
    as well.
    """
    faulting = [
        f'{name}: {row["faults_per_prediction"]:g}'
        for name, row in rows.items() if row['faults_per_prediction']
    ]
    if not faulting:
        return None
    return ('page faults per prediction (' + ', '.join(faulting) +
            '): the allocator gives these pages back to the system after '
            'each prediction and they are faulted in again; with glibc, '
            f'GLIBC_TUNABLES={NO_TRIM_TUNABLES} keeps them '
            '(docs/online.md, "The allocator")')


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def format_table(rows: Dict[str, dict]) -> str:
    """Markdown, one row per mode and layout."""
    lines = [
        '| mode | layout | per-frame latency, median (ms) | p90 (ms) | '
        'vs fastest window | page faults per prediction | GFLOPs per '
        'prediction | peak extra memory (MiB) | state between frames (MiB) '
        '|', '|---|---|---|---|---|---|---|---|---|'
    ]
    for name, row in rows.items():
        mode, layout = split_row_name(name)
        faults = row['faults_per_prediction']
        lines.append(f'| {mode} | {layout} | {row["median_ms"]:.1f} | '
                     f'{row["p90_ms"]:.1f} | {row["vs_window"]:.3f} | '
                     f'{"n/a" if faults is None else f"{faults:g}"} | '
                     f'{row["gflops"]:.3g} | {row["extra_mib"]:.1f} | '
                     f'{row["state_mib"]:.2f} |')
    return '\n'.join(lines)


def format_stage_table(rows: Dict[str, dict]) -> str:
    """Markdown, one row per backbone stage, one column per mode and layout.

    Values are median milliseconds per frame: a window prediction's divided
    by the frames of its window.
    """
    names = list(rows)
    stages = list(rows[names[0]]['stage_ms_per_frame'])
    lines = [
        '| stage | ' + ' | '.join(f'{name}, ms per frame'
                                  for name in names) + ' |',
        '|---|' + '---|' * len(names)
    ]
    for stage in stages:
        values = ' | '.join(f'{rows[name]["stage_ms_per_frame"][stage]:.2f}'
                            for name in names)
        lines.append(f'| {stage} | {values} |')
    return '\n'.join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The command line of the benchmark.

    Returns:
        The parser.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--model', choices=('r50', 'tiny'), default='r50')
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--window', type=int, default=8)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--repeats', type=int, default=20)
    parser.add_argument('--memory-frames', type=int, default=4)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument(
        '--layouts',
        nargs='+',
        choices=tuple(LAYOUTS),
        default=list(LAYOUTS),
        help='memory layouts to run both modes in (LAYOUTS)')
    parser.add_argument(
        '--stages',
        action='store_true',
        help='also time each backbone stage inside every prediction')
    parser.add_argument(
        '--runtime',
        choices=RUNTIMES,
        default='torch',
        help='run both modes in PyTorch, or as ONNX graphs in ONNX Runtime '
        '(one row per mode: it picks its own layouts)')
    parser.add_argument('--json', default=None, help='write results here')
    parser.add_argument(
        '--skip-memory',
        action='store_true',
        help='no memory runs (they start one process per mode)')
    parser.add_argument(
        '--memory-of', choices=MODES, default=None, help=argparse.SUPPRESS)
    return parser


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parses and checks the command line.

    Args:
        argv: Command-line arguments. Defaults to None (``sys.argv``).

    Returns:
        The arguments.

    Raises:
        SystemExit: ``--stages`` with ``--runtime onnxruntime``.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.stages and args.runtime != 'torch':
        parser.error('--stages times PyTorch modules; not with --runtime '
                     f'{args.runtime}')
    return args


def set_up(threads: int) -> None:
    """Sets torch's threads, flushes denormals, registers the modules."""
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    from img_mmaction.utils import register_all_modules
    register_all_modules()  # the plugin (compat fixes) and MMAction2


def run_memory_of(args: argparse.Namespace) -> Dict[str, float]:
    """The child's side of :func:`measure_memory`: prints one JSON line.

    Args:
        args: The parsed command line, with ``--memory-of``.

    Returns:
        :func:`memory_of` of the mode in the first of ``--layouts``.
    """
    result = memory_of(args.memory_of, args.model, args.size, args.window,
                       args.memory_frames, args.layouts[0], args.runtime)
    print(json.dumps(result))
    return result


def mode_gflops(model_name: str, window: int, size: int) -> Dict[str, float]:
    """GFLOPs of one prediction of each mode (:func:`gflops`).

    Args:
        model_name: See :func:`build_model`.
        window: Frames of the window.
        size: Frame side.

    Returns:
        ``{mode: GFLOPs}``: the stream runs one frame, the window
        ``window``.
    """
    return dict(
        stream=gflops(model_name, 1, size),
        window=gflops(model_name, window, size))


def measure_memory(names: Sequence[str],
                   args: argparse.Namespace) -> Dict[str, Dict[str, float]]:
    """Each row's memory, each in a fresh process (:func:`memory_of`).

    Args:
        names: The rows (:func:`row_name`), measured in this order.
        args: The parsed command line; with ``--skip-memory`` no process
            starts and every figure is NaN.

    Returns:
        Per row: ``rss_built_mib``, ``peak_mib`` and ``extra_mib``.
    """
    if args.skip_memory:
        return {name: dict(NOT_MEASURED) for name in names}
    return {
        name: _memory_in_child(*split_row_name(name), args)
        for name in names
    }


def make_rows(timed: Dict[str, object], flops: Dict[str, float],
              memory: Dict[str, Dict[str, float]], window: int,
              stages: bool) -> Dict[str, dict]:
    """The report's rows, one per mode and layout, in timing order.

    Args:
        timed: :func:`time_modes`.
        flops: :func:`mode_gflops`.
        memory: :func:`measure_memory`.
        window: Frames of the window (a window prediction's stage times
            are divided by them).
        stages: Add ``stage_ms_per_frame``.

    Returns:
        Per row: median and p90 latency (ms), ``vs_window`` (the median
        over the fastest window row's), page faults per prediction
        (median; None off Unix), GFLOPs, state between frames (MiB), the
        memory figures and, with ``stages``, the median ms per frame of
        each stage.
    """
    times: Dict[str, List[float]] = timed['times']
    fastest_window = min(
        statistics.median(seconds) for name, seconds in times.items()
        if split_row_name(name)[0] == 'window')
    rows = {}
    for name, seconds in times.items():
        mode = split_row_name(name)[0]
        median = statistics.median(seconds)
        faults = timed['faults'][name]
        rows[name] = dict(
            median_ms=median * 1e3,
            p90_ms=_quantile(seconds, 0.9) * 1e3,
            vs_window=median / fastest_window,
            faults_per_prediction=(None if None in faults else
                                   statistics.median(faults)),
            gflops=flops[mode],
            state_mib=timed['state_mib'][name],
            **memory[name])
        if stages:
            frames = window if mode == 'window' else 1
            rows[name]['stage_ms_per_frame'] = {
                stage: statistics.median(calls) * 1e3 / frames
                for stage, calls in timed['stage_times'][name].items()
            }
    return rows


def make_note(args: argparse.Namespace, max_abs_diff: float,
              rows: Dict[str, dict], load_before: Tuple[float, ...],
              load_after: Tuple[float, ...]) -> str:
    """The line under the table: settings, check, load, machine, versions.

    Args:
        args: The parsed command line.
        max_abs_diff: The equivalence check's largest difference.
        rows: :func:`make_rows` (a page fault warning follows when some
            rows fault).
        load_before: The load average before the timing.
        load_after: The load average after the timing.

    Returns:
        The note.
    """
    note = (f'{args.model}, {args.size}x{args.size}, window {args.window}, '
            f'batch 1, {args.threads} threads, median of {args.repeats} '
            f'after {args.warmup}; max |stream - window| after '
            f'{args.window} frames: {max_abs_diff:.2e}; load '
            f'average {load_before[0]:.2f} before, {load_after[0]:.2f} '
            f'after; {datetime.date.today().isoformat()}, '
            f'{machine()}, torch {torch.__version__}; runtime: '
            f'{_runtime_line(args.runtime)}; allocator settings: '
            f'{_allocator_line()}')
    warning = page_fault_warning(rows)
    if warning is not None:
        note += '\nWARNING: ' + warning
    return note


def run_benchmark(args: argparse.Namespace) -> Dict[str, object]:
    """Measures, prints the tables and the note, writes the JSON record.

    Args:
        args: The parsed command line (without ``--memory-of``).

    Returns:
        The record: ``rows``, ``max_abs_diff``, ``load_before``,
        ``load_after``, ``note``, ``runtime``, ``allocator``, ``times``,
        ``faults`` and, with ``--stages``, ``stage_times``.
    """
    layouts = args.layouts if args.runtime == 'torch' else [ONNX_ROW]
    load_before = os.getloadavg()
    timed = time_modes(args.model, args.size, args.window, args.warmup,
                       args.repeats, layouts, args.stages, args.runtime)
    flops = mode_gflops(args.model, args.window, args.size)
    load_after = os.getloadavg()
    memory = measure_memory(list(timed['times']), args)
    rows = make_rows(timed, flops, memory, args.window, args.stages)
    note = make_note(args, timed['max_abs_diff'], rows, load_before,
                     load_after)
    table = format_table(rows)
    if args.stages:
        table += '\n\n' + format_stage_table(rows)
    print(table + '\n\n' + note)
    results = dict(
        rows=rows,
        max_abs_diff=timed['max_abs_diff'],
        load_before=load_before,
        load_after=load_after,
        note=note,
        runtime=args.runtime,
        allocator=allocator(),
        times=timed['times'],
        faults=timed['faults'])
    if args.stages:
        results['stage_times'] = timed['stage_times']
    if args.json:
        with open(args.json, 'w') as handle:
            json.dump(results, handle, indent=2)
    return results


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, object]:
    """Command line entry point.

    Args:
        argv: Command-line arguments. Defaults to None (``sys.argv``).

    Returns:
        :func:`run_benchmark`'s record, or with ``--memory-of`` (the
        memory child) :func:`run_memory_of`'s figures.
    """
    args = parse_args(argv)
    set_up(args.threads)
    if args.memory_of is not None:
        return run_memory_of(args)
    return run_benchmark(args)


if __name__ == '__main__':
    main()
