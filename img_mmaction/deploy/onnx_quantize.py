"""The causal frame step quantized to int8 by ONNX Runtime (OURS).

:class:`~img_mmaction.deploy.onnx_stream.OnnxStreamingRecognizer` with
``precision='int8'`` exports its fp32 frame step as usual, then quantizes
it with ONNX Runtime's static quantization (``onnxruntime.quantization``),
calibrated on consecutive frames the user gives: each calibration frame is
fed with the state (every causal layer's cache) that the fp32 graph
produced for the frame before it, so that the state inputs are calibrated
on the values a stream feeds them, not on zeros. The int8 graph is then
checked against the fp32 one on the calibration clips and the largest
difference is logged. What is quantized, and why: docs/notes/int8.md.
"""
from __future__ import annotations
import fnmatch
import logging
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import (TYPE_CHECKING, Callable, Dict, List, Optional, Sequence,
                    Tuple, Union)

import numpy as np
import torch
from mmengine.logging import print_log

if TYPE_CHECKING:  # types only: onnx_stream imports this module
    import onnx
    import onnxruntime

    from .onnx_stream import OnnxStreamingRecognizer

#: Precisions of the frame step.
PRECISIONS = ('fp32', 'int8')
#: Fewest calibration frames accepted, and fewest videos (clips) they must
#: come from: fewer videos missed the agreement target on the trained demo
#: model, whatever the number of frames (docs/notes/int8.md).
MIN_CALIBRATION_FRAMES = 32
MIN_CALIBRATION_CLIPS = 4
#: Below this cosine between int8 and fp32 pooled features on a
#: calibration frame, the build-time check warns.
WARN_COSINE = 0.99
QUANT_FORMATS = ('qdq', 'qoperator')
ACTIVATION_TYPES = ('uint8', 'int8')
CALIBRATION_METHODS = ('minmax', 'entropy', 'percentile')

Feeds = Dict[str, np.ndarray]


@dataclass(frozen=True)
class QuantScheme:
    """What ONNX Runtime quantizes in the frame step, and how (OURS).

    The defaults are the choice measured on Res2NetIMG-50 and the trained
    demo model (docs/notes/int8.md); the other values are there to measure
    the alternatives.

    Args:
        op_types: ONNX op types to quantize (``op_types_to_quantize``).
            Defaults to ``('Conv',)``: every other node (CMEM's norms,
            cosine and gates, the shift's weighted sum, the residual adds,
            the state) stays float.
        per_channel: One weight scale per output channel. Defaults to True.
        quant_format: ``'qdq'`` (QuantizeLinear/DequantizeLinear pairs,
            fused by ONNX Runtime into integer kernels) or ``'qoperator'``
            (QLinearConv etc. written into the graph). Defaults to
            ``'qdq'``.
        activations: ``'uint8'`` (asymmetric, zero point from the range)
            or ``'int8'`` (symmetric). Weights are symmetric int8 in both.
            Defaults to ``'uint8'``.
        method: Calibration: ``'minmax'``, ``'entropy'`` or
            ``'percentile'``. Defaults to ``'minmax'``.
        moving_average: With ``'minmax'``: ONNX Runtime's moving average
            of each frame's min and max (``CalibMovingAverage``) instead of
            the extremes over all frames. Defaults to False.
        percentile: With ``'percentile'``: the percentile of each tensor's
            values kept in range, at both ends (asymmetric for uint8
            activations). Defaults to 99.999.
        stem_float: The nodes that read the frames (the stem's first
            convolution) stay float. Defaults to True: all-int8 missed the
            per-frame agreement target on one of three trained models,
            this met it on all three.
        keep_float: ``fnmatch`` patterns of node names (the exported
            graph's, e.g. ``'*/cmem/*'`` for every CMEM node) that stay
            float too. Defaults to none.
        reduce_range: 7-bit weights (for CPUs without VNNI). Defaults to
            False.

    Raises:
        ValueError: A value is not one of the choices above.
    """

    op_types: Tuple[str, ...] = ('Conv', )
    per_channel: bool = True
    quant_format: str = 'qdq'
    activations: str = 'uint8'
    method: str = 'minmax'
    moving_average: bool = False
    percentile: float = 99.999
    stem_float: bool = True
    keep_float: Tuple[str, ...] = field(default_factory=tuple)
    reduce_range: bool = False

    def __post_init__(self) -> None:
        checks = (('quant_format', self.quant_format, QUANT_FORMATS),
                  ('activations', self.activations, ACTIVATION_TYPES),
                  ('method', self.method, CALIBRATION_METHODS))
        for name, value, choices in checks:
            if value not in choices:
                raise ValueError(f'QuantScheme.{name} must be one of '
                                 f'{choices}, got {value!r}')
        object.__setattr__(self, 'op_types', tuple(self.op_types))
        object.__setattr__(self, 'keep_float', tuple(self.keep_float))

    def to_dict(self) -> dict:
        """The scheme as JSON-ready values."""
        values = asdict(self)
        values['op_types'] = list(self.op_types)
        values['keep_float'] = list(self.keep_float)
        return values

    def float_nodes(self, graph: 'onnx.GraphProto') -> List[str]:
        """The names of the nodes of ``graph`` that stay float: those
        that read ``frames`` (with :attr:`stem_float`) and those that
        :attr:`keep_float` names."""
        return [
            node.name for node in graph.node
            if (self.stem_float and 'frames' in node.input) or any(
                fnmatch.fnmatchcase(node.name, p) for p in self.keep_float)
        ]


def _size(size: Sequence[int]) -> str:
    """``'HxW'``."""
    return f'{size[0]}x{size[1]}'


def check_calibration(clips: Union[torch.Tensor, Sequence[torch.Tensor]],
                      frame_size: Tuple[int, int],
                      minimum: int = MIN_CALIBRATION_FRAMES,
                      minimum_clips: int = MIN_CALIBRATION_CLIPS
                      ) -> List[torch.Tensor]:
    """The calibration clips, checked.

    Args:
        clips: Consecutive raw frames of each calibration video, [T, 3, H,
            W] each (the test pipeline's pixels, at the stream's stride),
            or one [N, T, 3, H, W] tensor.
        frame_size: The graph's (H, W).
        minimum: Fewest frames in all. Defaults to
            :data:`MIN_CALIBRATION_FRAMES`.
        minimum_clips: Fewest clips. Defaults to
            :data:`MIN_CALIBRATION_CLIPS`.

    Returns:
        The clips as a list of float tensors.

    Raises:
        ValueError: A clip is not [T, 3, H, W] or of another frame size (the
            clip's index and both sizes are named), or there are fewer than
            ``minimum`` frames or ``minimum_clips`` clips (the numbers are
            named).
    """
    clips = [clip.float() for clip in clips]
    for index, clip in enumerate(clips):
        if clip.ndim != 4 or clip.shape[1] != 3:
            raise ValueError(
                f'calibration clip {index}: shape {tuple(clip.shape)}, not '
                '[T, 3, H, W] (consecutive raw frames of one video)')
        if tuple(clip.shape[-2:]) != tuple(frame_size):
            raise ValueError(f'calibration clip {index}: frames of '
                             f'{_size(clip.shape[-2:])}, but the graph takes '
                             f'{_size(frame_size)} (frame_size)')
    total = sum(clip.shape[0] for clip in clips)
    if total < minimum or len(clips) < minimum_clips:
        raise ValueError(
            f'calibration: {total} frames in {len(clips)} clips, but int8 '
            f'calibration needs at least {minimum} frames from at least '
            f'{minimum_clips} videos; give more videos (or longer ones)')
    return clips


def calibration_feeds(session: 'onnxruntime.InferenceSession',
                      clips: Sequence[np.ndarray],
                      zero_state: Callable[[int], Feeds]) -> List[Feeds]:
    """The fp32 graph's inputs at each calibration frame, state included.

    Each clip is streamed alone (B = 1) through the fp32 graph: frame t is
    fed with the state the graph gave after frame t-1 (zeros and
    ``fresh`` at the first frame), as a stream feeds it.

    Args:
        session: ONNX Runtime session of the fp32 frame step.
        clips: Preprocessed frames of each clip, [T, 3, H, W] float32.
        zero_state: The state before a first frame, for B streams.

    Returns:
        One feed dict per frame, clip after clip.
    """
    names = [value.name for value in session.get_inputs()[2:]]
    feeds = []
    for clip in clips:
        state = zero_state(1)
        for t in range(clip.shape[0]):
            # [T, 3, H, W] -> [1, 3, H, W]
            feed = dict(
                frames=np.ascontiguousarray(clip[t:t + 1], dtype=np.float32),
                fresh=np.array([t == 0]),
                **state)
            feeds.append(feed)
            outputs = session.run(None, feed)
            state = dict(zip(names, outputs[1:]))
    return feeds


class _FeedReader:
    """``onnxruntime.quantization.CalibrationDataReader`` over feeds."""

    def __init__(self, feeds: Sequence[Feeds]) -> None:
        self._feeds = list(feeds)
        self._next = iter(self._feeds)

    def get_next(self) -> Optional[Feeds]:
        return next(self._next, None)

    def rewind(self) -> None:
        self._next = iter(self._feeds)


def quantize_graph(graph: bytes, feeds: Sequence[Feeds],
                   scheme: QuantScheme) -> bytes:
    """ONNX Runtime's static quantization of a frame step.

    The graph goes through ``quant_pre_process`` (shape inference and
    ONNX Runtime's basic optimisations), then ``quantize_static``.

    Args:
        graph: The fp32 frame step (ONNX bytes).
        feeds: Calibration feeds (:func:`calibration_feeds`).
        scheme: What to quantize, and how.

    Returns:
        The quantized graph (ONNX bytes); same inputs and outputs.
    """
    import onnx
    from onnxruntime.quantization import (CalibrationDataReader,
                                          CalibrationMethod, QuantFormat,
                                          QuantType, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(_FeedReader, CalibrationDataReader):
        pass

    methods = dict(
        minmax=CalibrationMethod.MinMax,
        entropy=CalibrationMethod.Entropy,
        percentile=CalibrationMethod.Percentile)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / 'fp32.onnx').write_bytes(graph)
        quant_pre_process(str(folder / 'fp32.onnx'), str(folder / 'pre.onnx'))
        keep = scheme.float_nodes(onnx.load(str(folder / 'pre.onnx')).graph)
        symmetric = scheme.activations == 'int8'
        quantize_static(
            str(folder / 'pre.onnx'),
            str(folder / 'int8.onnx'),
            Reader(feeds),
            quant_format=(QuantFormat.QDQ if scheme.quant_format == 'qdq' else
                          QuantFormat.QOperator),
            op_types_to_quantize=list(scheme.op_types),
            per_channel=scheme.per_channel,
            reduce_range=scheme.reduce_range,
            activation_type=(QuantType.QInt8
                             if symmetric else QuantType.QUInt8),
            weight_type=QuantType.QInt8,
            nodes_to_exclude=keep,
            calibrate_method=methods[scheme.method],
            # Not CalibMaxIntermediateOutputs: in onnxruntime 1.32 it drops
            # each full batch of frames without merging its min and max.
            extra_options=dict(
                ActivationSymmetric=symmetric,
                WeightSymmetric=True,
                CalibMovingAverage=scheme.moving_average,
                CalibPercentile=scheme.percentile,
                # ONNX Runtime's percentile ranges are symmetric unless
                # told: half of a uint8 range would be lost on ReLU maps.
                CalibTensorRangeSymmetric=symmetric))
        return (folder / 'int8.onnx').read_bytes()


def compare_on_clips(reference: 'onnxruntime.InferenceSession',
                     candidate: 'onnxruntime.InferenceSession',
                     clips: Sequence[np.ndarray],
                     zero_state: Callable[[int], Feeds]) -> Dict[str, float]:
    """Two frame steps streamed over the same clips, each with its state.

    Args:
        reference: Session of the fp32 frame step.
        candidate: Session of the quantized one.
        clips: Preprocessed frames of each clip, [T, 3, H, W] float32.
        zero_state: The state before a first frame, for B streams.

    Returns:
        Over every frame: ``max_abs_diff`` and ``mean_abs_diff`` of the
        pooled features, ``max_abs_fp32`` (their largest fp32 magnitude),
        ``min_cosine`` (the lowest per-frame cosine) and ``frames``.
    """
    names = [value.name for value in reference.get_inputs()[2:]]
    diffs, cosines, scale = [], [], 0.0
    for clip in clips:
        states = [zero_state(1), zero_state(1)]
        for t in range(clip.shape[0]):
            features = []
            for index, session in enumerate((reference, candidate)):
                outputs = session.run(
                    None,
                    dict(
                        frames=np.ascontiguousarray(
                            clip[t:t + 1], dtype=np.float32),
                        fresh=np.array([t == 0]),
                        **states[index]))
                states[index] = dict(zip(names, outputs[1:]))
                features.append(outputs[0][0].astype(np.float64))
            expected, found = features
            diffs.append(np.abs(found - expected))
            scale = max(scale, float(np.abs(expected).max()))
            norms = np.linalg.norm(expected) * np.linalg.norm(found)
            cosines.append(float(expected @ found / norms) if norms else 1.0)
    diffs = np.stack(diffs)
    return dict(
        frames=len(cosines),
        max_abs_diff=float(diffs.max()),
        mean_abs_diff=float(diffs.mean()),
        max_abs_fp32=scale,
        min_cosine=min(cosines))


def preprocessed_clips(model: torch.nn.Module,
                       clips: Sequence[torch.Tensor]) -> List[np.ndarray]:
    """Raw clips through the model's data preprocessor, as the frame step
    takes them.

    Args:
        model: The recognizer (its ``data_preprocessor``).
        clips: Raw frames of each clip, [T, 3, H, W].

    Returns:
        The preprocessed frames of each clip, [T, 3, H, W] (NumPy).
    """
    preprocess = model.data_preprocessor
    with torch.no_grad():
        return [
            preprocess(dict(inputs=list(clip),
                            data_samples=None))['inputs'].numpy()
            for clip in clips
        ]


def quantize_frame_step(runner: 'OnnxStreamingRecognizer', graph: bytes,
                        clips: Sequence[torch.Tensor], scheme: QuantScheme,
                        threads: Optional[int]) -> Tuple[bytes, dict]:
    """The int8 frame step of a runner, calibrated, checked and logged.

    Args:
        runner: The runner (its data preprocessor and zero state).
        graph: Its fp32 frame step (ONNX bytes).
        clips: Checked raw calibration clips (:func:`check_calibration`).
        scheme: What to quantize, and how.
        threads: ONNX Runtime's intra-op threads for the check.

    Returns:
        ``(int8 graph bytes, calibration summary)``; the summary holds the
        number of clips and frames, the scheme, ONNX Runtime's version and
        the check (:func:`compare_on_clips`).
    """
    import onnxruntime

    from .onnx_stream import session_options
    from .packaged_stream import cpu_session
    inputs = preprocessed_clips(runner.model, clips)

    def session(model: bytes) -> onnxruntime.InferenceSession:
        return cpu_session(model, session_options(threads))

    fp32 = session(graph)
    feeds = calibration_feeds(fp32, inputs, runner.zero_state)
    quantized = quantize_graph(graph, feeds, scheme)
    check = compare_on_clips(fp32, session(quantized), inputs,
                             runner.zero_state)
    summary = dict(
        clips=len(inputs),
        frames=len(feeds),
        scheme=scheme.to_dict(),
        onnxruntime=onnxruntime.__version__,
        check=check)
    share = check['max_abs_diff'] / max(check['max_abs_fp32'], 1e-12)
    message = (
        f'int8 frame step: on its {len(feeds)} calibration frames '
        f'({len(inputs)} clips), max |int8 - fp32| of the pooled features '
        f'{check["max_abs_diff"]:.3g} ({100 * share:.2f} % of their largest '
        f'magnitude {check["max_abs_fp32"]:.3g}), mean '
        f'{check["mean_abs_diff"]:.3g}, lowest cosine '
        f'{check["min_cosine"]:.5f}')
    level = logging.INFO
    if check['min_cosine'] < WARN_COSINE:
        level = logging.WARNING
        message += (f' (below {WARN_COSINE}: check the int8 scores on your '
                    'data, e.g. with benchmarks/int8_accuracy.py)')
    print_log(message, logger='current', level=level)
    return quantized, summary
