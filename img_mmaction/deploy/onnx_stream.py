"""The causal stream's frame step as an ONNX graph, run by ONNX Runtime (OURS).

:class:`~img_mmaction.models.StreamingRecognizer` runs a frame through
PyTorch's eager modules: one Python call per operator, paid at every frame.
Here the same step (backbone and spatial pooling, with every causal layer's
cache) is exported once to an ONNX graph whose state is explicit::

    inputs:  frames [B, 3, H, W] (after the data preprocessor),
             fresh [B] (bool: streams at their first frame),
             one tensor per cached quantity, [B, ...] each (state_names)
    outputs: features [B, C] (pooled), then 'next/' + each state name

and :class:`OnnxStreamingRecognizer` runs it in ONNX Runtime with the same
``step`` / ``reset`` API and the same scores (docs/online.md). The data
preprocessor, the running average over frames and the classifier stay in
PyTorch (the model's own modules); they are a negligible part of a frame.

With ``precision='int8'`` the exported step is quantized by ONNX Runtime,
calibrated on frames the user gives (``onnx_quantize``), and
:meth:`OnnxStreamingRecognizer.save_package` writes a file that runs
without PyTorch (``packaged_stream``; docs/notes/int8.md).

Example:
    >>> runner = OnnxStreamingRecognizer(model, frame_size=(224, 224))
    >>> for frame in camera:                  # [B, 3, 224, 224], raw pixels
    ...     scores = runner.step(frame)       # [B, num_classes]
"""
from __future__ import annotations
import copy
import io
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn

from img_mmaction.models.streaming import StreamingLayer, StreamingRecognizer
from .extra import require_deploy_extra
from .onnx_quantize import (MIN_CALIBRATION_CLIPS, MIN_CALIBRATION_FRAMES,
                            PRECISIONS, QuantScheme, check_calibration,
                            quantize_frame_step)
from .packaged_stream import StreamGroups, cpu_session, package_session_options

if TYPE_CHECKING:
    import onnxruntime

#: Where a stream's frames can run: PyTorch's eager modules
#: (:class:`StreamingRecognizer`), or the frame step as an ONNX graph in ONNX
#: Runtime (:class:`OnnxStreamingRecognizer`).
RUNTIMES = ('torch', 'onnxruntime')
#: Prefix of the outputs that carry the state to the next frame.
NEXT = 'next/'


def session_options(threads: Optional[int] = None
                    ) -> 'onnxruntime.SessionOptions':
    """ONNX Runtime options for a stream on the CPU.

    Args:
        threads: Intra-op threads; None: as many as PyTorch uses
            (``torch.get_num_threads()``).

    Returns:
        ``onnxruntime.SessionOptions`` of
        :func:`~img_mmaction.deploy.packaged_stream.package_session_options`
        (``spin=False``): all graph optimisations,
        one inter-op thread, and no spinning: between frames, and while
        another session of the process runs, the idle workers sleep instead
        of taking the cores (docs/notes/online-runs.md#spinning).
    """
    return package_session_options(threads or torch.get_num_threads())


def _layer_names(runner: StreamingRecognizer) -> List[str]:
    """Each streaming layer's name in ``runner.model``, in ``runner.layers``
    order."""
    names = {
        id(module): name
        for name, module in runner.model.named_modules()
        if isinstance(module, StreamingLayer)
    }
    return [names[id(layer)] for layer in runner.layers]


class FrameStep(nn.Module):
    """One frame of a streaming runner's model as a function of its state.

    Sets every streaming layer's cache and fresh mask from the inputs, runs
    the backbone and the head's spatial pooling, and returns the caches the
    layers then hold. Only for export: calling it changes the layers'
    caches.

    Args:
        runner: A :class:`StreamingRecognizer` (its model and layers).
    """

    def __init__(self, runner: StreamingRecognizer) -> None:
        super().__init__()
        self.model = runner.model
        self.layers = runner.layers

    def forward(self, frames: torch.Tensor, fresh: torch.Tensor, *state:
                torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Args: frames [B, 3, H, W], fresh [B] (bool), the state tensors.

        Returns:
            The pooled features [B, C], then the next state tensors.
        """
        parts = iter(state)
        for layer in self.layers:
            layer.load_cache([next(parts) for _ in layer.cache_parts])
            layer.fresh = fresh
        # [B, C, h, w] -> [B, C, 1, 1] -> [B, C]
        features = self.model.cls_head.avg_pool(
            self.model.backbone(frames)).flatten(1)
        next_state = [
            tensor for layer in self.layers
            for tensor in layer.cache_tensors()
        ]
        return (features, *next_state)


class OnnxStreamingRecognizer(StreamingRecognizer):
    """A causal ``Recognizer2D`` frame by frame in ONNX Runtime (OURS).

    The same checks, API and scores as :class:`StreamingRecognizer`
    (within float32 rounding): the frame step is exported to ONNX at
    construction (weights included) and run by ONNX Runtime on the CPU.

    Args:
        model: A trained causal ``Recognizer2D`` on the CPU (see
            :class:`StreamingRecognizer`).
        frame_size: (H, W) of the frames after the test pipeline; the graph
            takes only this size (its state has the feature maps' sizes).
        threads: ONNX Runtime's intra-op threads; None: PyTorch's number.
        save_to: Optional path to also write the ONNX graph to (the one
            the runner runs: the int8 one with ``precision='int8'``).
        opset: ONNX opset of the export. Defaults to 17.
        precision: ``'fp32'`` (the default) or ``'int8'`` (OURS: the
            exported step quantized by ONNX Runtime, calibrated on
            ``calibration``; docs/notes/int8.md).
        calibration: For int8: consecutive raw frames of each calibration
            video, [T, 3, H, W] each (the test pipeline's pixels, at the
            stream's stride): at least ``min_calibration_frames`` frames
            from at least ``min_calibration_clips`` videos.
        scheme: For int8: what is quantized; None: the measured default
            (:class:`~img_mmaction.deploy.onnx_quantize.QuantScheme`).
        stream_groups: For many streams (OURS): the B streams of a step
            run as this many groups of consecutive streams at the same
            time, each group a run of the one session on a thread of its
            own, with ``threads // stream_groups`` intra-op threads each
            (at least 1). 1 (the default): one run of all B on ``threads``.
            More frames per second for B streams when one run does not keep
            the cores busy (docs/online.md); the scores are the same.

    Raises:
        ValueError: The model cannot stream (every module that stops it is
            named), or is not on the CPU; an unknown precision; int8
            without calibration, or with too few frames or frames of
            another size (the numbers are named).
        ImportError: onnxruntime is not installed.
    """

    #: Fewest calibration frames, and videos, accepted for int8 (measured:
    #: docs/notes/int8.md); a lab subclass may lower them to measure why.
    min_calibration_frames: int = MIN_CALIBRATION_FRAMES
    min_calibration_clips: int = MIN_CALIBRATION_CLIPS

    def __init__(self,
                 model: nn.Module,
                 frame_size: Tuple[int, int],
                 threads: Optional[int] = None,
                 save_to: Optional[Union[str, Path]] = None,
                 opset: int = 17,
                 precision: str = 'fp32',
                 calibration: Optional[Sequence[torch.Tensor]] = None,
                 scheme: Optional[QuantScheme] = None,
                 stream_groups: int = 1) -> None:
        require_deploy_extra('OnnxStreamingRecognizer (the frame step in '
                             'ONNX Runtime)')
        super().__init__(model)
        devices = {p.device.type for p in self.model.parameters()}
        if devices != {'cpu'}:
            raise ValueError('OnnxStreamingRecognizer: the model must be on '
                             f'the CPU, its parameters are on {devices}')
        self.frame_size = (int(frame_size[0]), int(frame_size[1]))
        #: How the B streams of a step run: one run, or groups at once.
        self.groups = StreamGroups(stream_groups, 'OnnxStreamingRecognizer')
        calibration = self._checked_calibration(precision, calibration)
        #: ``'fp32'`` or ``'int8'``.
        self.precision = precision
        #: For int8: what calibration saw and the build-time check
        #: (``onnx_quantize.quantize_frame_step``); None for fp32.
        self.calibration: Optional[dict] = None
        self._opset = opset
        example = self._describe_state()
        graph = self._export(example, opset)
        self._int8_graph: Optional[bytes] = None
        if precision == 'int8':
            graph, self.calibration = quantize_frame_step(
                self, graph, calibration, scheme or QuantScheme(), threads)
            self._int8_graph = graph
        if save_to is not None:
            Path(save_to).write_bytes(graph)
        self.session = self._session(graph, threads)
        self._state: Optional[Dict[str, np.ndarray]] = None
        self._fresh: Optional[torch.Tensor] = None
        #: Pooled features [B, C] of the last frame.
        self.features: Optional[torch.Tensor] = None

    def _checked_calibration(
        self, precision: str, calibration: Optional[Sequence[torch.Tensor]]
    ) -> Optional[List[torch.Tensor]]:
        """The calibration clips of an int8 runner, checked (None for fp32).

        Raises:
            ValueError: An unknown precision; int8 without calibration, or
                with too few frames or frames of another size.
        """
        if precision not in PRECISIONS:
            raise ValueError(f'OnnxStreamingRecognizer: precision must be '
                             f'one of {PRECISIONS}, got {precision!r}')
        if precision == 'fp32':
            return None
        if calibration is None:
            raise ValueError(
                "OnnxStreamingRecognizer: precision='int8' needs "
                'calibration (consecutive raw frames of a few videos)')
        return check_calibration(calibration, self.frame_size,
                                 self.min_calibration_frames,
                                 self.min_calibration_clips)

    def _describe_state(self) -> Tuple[torch.Tensor, ...]:
        """Sets :attr:`state_fill` and :attr:`state_shapes` from a dry
        run, and returns the dry run's example inputs."""
        names = [
            f'{layer_name}.{part}'
            for layer_name, layer in zip(_layer_names(self), self.layers)
            for part in layer.cache_parts
        ]
        #: What each state tensor holds before a first frame (the module's
        #: ``cache_fill``), by name.
        self.state_fill: Dict[str, float] = dict(
            zip(names, (fill for layer in self.layers
                        for fill in layer.module.cache_fill)))
        example = self._dry_run()
        #: Shape of each state tensor for one stream, by name, in the
        #: graph's input order.
        self.state_shapes: Dict[str, Tuple[int, ...]] = {
            name: tuple(tensor.shape[1:])
            for name, tensor in zip(names, example[2:])
        }
        return example

    def _session(self, graph: bytes,
                 threads: Optional[int]) -> 'onnxruntime.InferenceSession':
        """The ONNX Runtime session of ``graph`` for ``threads`` in all,
        split over :attr:`groups`."""
        return cpu_session(
            graph,
            session_options(
                self.groups.intra_op_threads(threads
                                             or torch.get_num_threads())))

    def _graph(self) -> bytes:
        """The frame step this runner runs: the int8 graph, or the fp32
        export again."""
        return self._int8_graph or self._export(self._dry_run(), self._opset)

    def with_threads(self,
                     threads: Optional[int],
                     stream_groups: int = 1) -> 'OnnxStreamingRecognizer':
        """The same frame step on a new session with other threads (OURS).

        An int8 graph is not quantized again (an fp32 one is exported
        again), so this is the way to try one int8 build on several thread
        counts or stream groups.

        Args:
            threads: ONNX Runtime's intra-op threads in all (None: as many
                as PyTorch uses).
            stream_groups: As the constructor's. Defaults to 1.

        Returns:
            A runner that shares this one's model, graph and calibration
            summary, with its own session and no stream started; this
            runner and its streams are unchanged.

        Raises:
            ValueError: ``stream_groups`` is not a positive integer.
        """
        groups = StreamGroups(stream_groups, 'OnnxStreamingRecognizer')
        clone = copy.copy(self)
        clone.groups = groups
        clone.session = clone._session(self._graph(), threads)
        clone.reset()
        return clone

    @property
    def state_names(self) -> List[str]:
        """The graph's state inputs, in order (``next/`` + each: its
        outputs)."""
        return list(self.state_shapes)

    def _dry_run(self) -> Tuple[torch.Tensor, ...]:
        """Example inputs of one stream: a frame, ``fresh`` and the state
        after one (zero) frame."""
        height, width = self.frame_size
        frames = torch.zeros(1, 3, height, width)
        with torch.no_grad():
            self.model.backbone(frames)
        state = [
            tensor.clone() for layer in self.layers
            for tensor in layer.cache_tensors()
        ]
        super()._clear_state()
        return (frames, torch.ones(1, dtype=torch.bool), *state)

    def _export(self, example: Tuple[torch.Tensor, ...], opset: int) -> bytes:
        """The ONNX graph of :class:`FrameStep` (TorchScript exporter)."""
        names = ['frames', 'fresh'] + self.state_names
        outputs = ['features'] + [NEXT + name for name in self.state_names]
        buffer = io.BytesIO()
        with torch.no_grad(), warnings.catch_warnings():
            # The layers' shape checks compare traced sizes; the tests
            # check the graph on other batches, resets and frames.
            warnings.simplefilter('ignore', torch.jit.TracerWarning)
            # In eval mode: the exporter restores the module's mode after,
            # and FrameStep's would otherwise put the whole tree in training.
            torch.onnx.export(
                FrameStep(self).eval(),
                example,
                buffer,
                dynamo=False,
                opset_version=opset,
                input_names=names,
                output_names=outputs,
                dynamic_axes={
                    name: {
                        0: 'streams'
                    }
                    for name in names + outputs
                })
        super()._clear_state()
        return buffer.getvalue()

    def zero_state(self, num_streams: int) -> Dict[str, np.ndarray]:
        """The state before a first frame, for B streams.

        Each tensor holds its module's ``cache_fill`` value (e.g. CMEM's
        norms are ones). With ``fresh`` all True the graph ignores it
        (masked as the torch runner masks a restarted stream); the values
        only keep the masked arithmetic finite.
        """
        return {
            name:
            np.full(
                (num_streams, ) + shape,
                self.state_fill[name],
                dtype=np.float32)
            for name, shape in self.state_shapes.items()
        }

    def _clear_state(self) -> None:
        self._state, self._fresh, self.features = None, None, None

    def _mark_fresh(self, fresh: torch.Tensor) -> None:
        self._fresh = fresh

    def _pooled_features(self, inputs: torch.Tensor) -> torch.Tensor:
        """Frame t through the ONNX graph; the state now holds frame t.

        Raises:
            ValueError: The frames are not of ``frame_size``.
        """
        size = tuple(inputs.shape[-2:])
        if size != self.frame_size:
            raise ValueError(
                f'OnnxStreamingRecognizer.step: frames of '
                f'{size[0]}x{size[1]}, but the graph was exported for '
                f'{self.frame_size[0]}x{self.frame_size[1]} (frame_size)')
        num_streams = inputs.shape[0]
        if self._state is None:
            self._state = self.zero_state(num_streams)
            fresh = np.ones(num_streams, dtype=bool)
        elif self._fresh is not None:
            fresh = self._fresh.numpy()
        else:
            fresh = np.zeros(num_streams, dtype=bool)
        feeds = dict(
            frames=np.ascontiguousarray(inputs.numpy(), dtype=np.float32),
            fresh=fresh,
            **self._state)
        outputs = self.groups.run(self.session, feeds, num_streams)
        self._state = dict(zip(self.state_shapes, outputs[1:]))
        self._fresh = None
        self.features = torch.from_numpy(outputs[0])
        return self.features

    def save_package(self, path: Union[str, Path]) -> Path:
        """Writes the frame step, running mean, classifier and metadata as
        one ONNX file that runs without PyTorch (OURS).

        :class:`~img_mmaction.deploy.packaged_stream.PackagedStreamRunner`
        loads it; the frame step is the one this runner runs (fp32: the
        same export again), so its pooled features are this runner's.

        Args:
            path: The file to write.

        Returns:
            ``path``.
        """
        from .stream_package import save_package
        return save_package(self, self._graph(), path)

    def state_nbytes(self) -> int:
        """Bytes held between steps: the graph's state and the feature sum.
        """
        arrays = list((self._state or {}).values())
        total = sum(array.nbytes for array in arrays)
        if self._feature_sum is not None:
            total += self._feature_sum.nbytes
        return total
