"""A saved stream package run without PyTorch or the recipe (OURS).

:meth:`~img_mmaction.deploy.onnx_stream.OnnxStreamingRecognizer.save_package`
writes one ONNX file that holds everything a stream needs: the frame step
(fp32 or int8, docs/notes/int8.md), the running mean over frames and the
classifier, and, in its ``metadata_props``, the frame size, the state's
names and shapes, the data preprocessor's mean and std, the fingerprint of
the weights it was made from, the precision and the calibration summary::

    inputs:  frames [B, 3, H, W] (after the preprocessor), fresh [B] (bool),
             one tensor per state name, feature_sum [B, C], frames_seen [B]
    outputs: features [B, C], 'next/' + each state name,
             next/feature_sum, next/frames_seen, logits [B, K], scores [B, K]

:class:`PackagedStreamRunner` runs such a file with ONNX Runtime and NumPy
only: this module imports neither PyTorch nor the rest of the plugin, so it
can be copied alone to a machine that has only ``onnxruntime`` and
``numpy``.

Example:
    >>> runner = PackagedStreamRunner('step_int8.onnx')
    >>> for frame in camera:                  # [B, 3, H, W], raw pixels
    ...     scores = runner.step(frame)       # [B, num_classes]
"""
from __future__ import annotations
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

if TYPE_CHECKING:
    import onnxruntime

#: The package format this module reads (``img_mmaction.format``).
FORMAT = 'stream/1'
#: Prefix of the metadata keys.
KEY = 'img_mmaction.'
#: Prefix of the outputs that carry the state to the next frame.
NEXT = 'next/'
#: The running mean's state, after the layers' state in the graph's inputs.
SUM_STATE = ('feature_sum', 'frames_seen')


def package_session_options(threads: Optional[int] = None,
                            spin: bool = False
                            ) -> 'onnxruntime.SessionOptions':
    """ONNX Runtime options for a package on the CPU.

    The same as :func:`~img_mmaction.deploy.onnx_stream.session_options`
    (all graph optimisations, one inter-op thread, no spinning unless
    ``spin``), without PyTorch to ask for a default number of threads.

    Args:
        threads: Intra-op threads; None: ONNX Runtime's default (one per
            physical core).
        spin: The intra-op workers spin between the parallel parts of a
            run and stop when it ends (``session.force_spinning_stop``)
            instead of sleeping (OURS, opt-in): faster where nothing else
            runs during a step, slower where other threads (PyTorch's, a
            decoder's) want the cores then (docs/notes/int8.md#the-package).
            Defaults to False.

    Returns:
        ``onnxruntime.SessionOptions``.
    """
    import onnxruntime
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = (
        onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL)
    options.intra_op_num_threads = threads or 0
    options.inter_op_num_threads = 1
    options.add_session_config_entry('session.intra_op.allow_spinning',
                                     '1' if spin else '0')
    if spin:
        options.add_session_config_entry('session.force_spinning_stop', '1')
    return options


#: ONNX Runtime graph optimisers that the stream sessions leave out (OURS,
#: measured: docs/notes/int8.md). ``QDQPropagationTransformer`` moves each
#: QuantizeLinear up over MaxPool, Reshape and Transpose: in the int8 frame
#: step the stem's pool then runs on uint8 in NCHW, a slow kernel, instead
#: of float in ONNX Runtime's blocked layout, and every state tensor read by
#: several float nodes gets a DequantizeLinear per reader. Left out, the
#: outputs are the same and the int8 frame is faster; fp32 graphs have no
#: QuantizeLinear, so it changes nothing there.
DISABLED_OPTIMIZERS = ('QDQPropagationTransformer', )


def cpu_session(graph: Union[bytes, str, os.PathLike],
                options: 'onnxruntime.SessionOptions'
                ) -> 'onnxruntime.InferenceSession':
    """An ONNX Runtime session of a frame step (or package) on the CPU,
    without :data:`DISABLED_OPTIMIZERS`.

    Args:
        graph: The ONNX graph, as bytes or a file.
        options: Its session options (:func:`package_session_options` or
            :func:`~img_mmaction.deploy.onnx_stream.session_options`).

    Returns:
        ``onnxruntime.InferenceSession``.
    """
    import onnxruntime
    if not isinstance(graph, bytes):
        graph = os.fspath(graph)
    return onnxruntime.InferenceSession(
        graph,
        options,
        providers=['CPUExecutionProvider'],
        disabled_optimizers=list(DISABLED_OPTIMIZERS))


class StreamGroups:
    """Runs a session on B streams as groups of consecutive streams at the
    same time (OURS; ``stream_groups`` of both stream runners).

    Each group is a run of the one session on a thread of its own (ONNX
    Runtime releases the GIL while it runs); every input and output has
    the streams on axis 0, so each stream's values are those of one run
    of all B.

    Args:
        groups: How many groups, a positive integer (1: one run).
        owner: The class that takes it, for the error message.

    Raises:
        ValueError: ``groups`` is not a positive integer.
    """

    def __init__(self, groups: int, owner: str) -> None:
        if (isinstance(groups, bool) or not isinstance(groups, int)
                or groups < 1):
            raise ValueError(f'{owner}: stream_groups must be a positive '
                             f'integer, got {groups!r}')
        self.groups = groups
        self._pool: Optional[ThreadPoolExecutor] = None

    def intra_op_threads(self, threads: Optional[int]) -> Optional[int]:
        """The session's intra-op threads for ``threads`` in all: None
        (ONNX Runtime's default) for one group, else ``threads // groups``
        (at least 1; None: the CPUs' count)."""
        if self.groups == 1:
            return threads
        return max(1, (threads or os.cpu_count() or 1) // self.groups)

    def run(self, session: 'onnxruntime.InferenceSession',
            feeds: Dict[str,
                        np.ndarray], num_streams: int) -> List[np.ndarray]:
        """``session.run(None, feeds)``, as one run or one per group."""
        groups = min(self.groups, num_streams)
        if groups == 1:
            return session.run(None, feeds)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                self.groups, thread_name_prefix='stream-group')
        # Every input [B, ...] -> groups of consecutive streams [B_g, ...]
        bounds = np.linspace(0, num_streams, groups + 1).astype(int)
        parts = [{
            name: value[start:stop]
            for name, value in feeds.items()
        } for start, stop in zip(bounds[:-1], bounds[1:])]
        results = list(
            self._pool.map(lambda part: session.run(None, part), parts))
        # Each output [B_g, ...] -> [B, ...]
        return [np.concatenate(outputs, axis=0) for outputs in zip(*results)]


def _size(size: Sequence[int]) -> str:
    """``'HxW'``."""
    return f'{size[0]}x{size[1]}'


class PackagedStreamRunner:
    """Streams frames through a saved package with ONNX Runtime (OURS).

    The same ``step`` / ``reset`` API as
    :class:`~img_mmaction.models.StreamingRecognizer`, on NumPy arrays.
    The file is checked when it is loaded: it must be a package of this
    format whose metadata describes its graph (frame size, state layout),
    and, where given, match the expected frame size, weights fingerprint
    and state layout.

    Args:
        path: The package (``save_package``'s file).
        threads: ONNX Runtime's intra-op threads; None: its default.
        frame_size: Expected (H, W); None: no check.
        fingerprint: Expected weights fingerprint (``weights_fingerprint``
            of the model the frames are meant for); None: no check.
        state_shapes: Expected state layout, ``{name: per-stream shape}``
            in the graph's order (``stream_state_shapes`` of the model);
            None: no check.
        stream_groups: B streams as this many groups run at once, each on
            ``threads // stream_groups`` intra-op threads (OURS; as
            ``OnnxStreamingRecognizer``'s). 1: one run of all B.
        spin: The intra-op workers spin while a run lasts
            (:func:`package_session_options`; OURS). Defaults to False.

    Raises:
        ValueError: The file is not a package, its metadata does not
            describe its graph, or it does not match an expectation; the
            message names the file and both values.
    """

    def __init__(self,
                 path: Union[str, Path],
                 threads: Optional[int] = None,
                 frame_size: Optional[Tuple[int, int]] = None,
                 fingerprint: Optional[str] = None,
                 state_shapes: Optional[Dict[str, Tuple[int, ...]]] = None,
                 stream_groups: int = 1,
                 spin: bool = False) -> None:
        self.path = Path(path)
        #: How the B streams of a step run: one run, or groups at once.
        self.groups = StreamGroups(stream_groups, 'PackagedStreamRunner')
        self.session = cpu_session(
            self.path,
            package_session_options(
                self.groups.intra_op_threads(threads), spin=spin))
        #: The package's metadata, decoded (values: JSON where written so).
        self.metadata = self._read_metadata()
        meta = self.metadata
        self.precision: str = meta['precision']
        self.fingerprint: str = meta['fingerprint']
        self.frame_size: Tuple[int, int] = tuple(meta['frame_size'])
        #: Shape of each state tensor for one stream, by name, in the
        #: graph's input order.
        self.state_shapes: Dict[str, Tuple[int, ...]] = {
            name: tuple(shape)
            for name, shape in meta['state']
        }
        self.num_classes: int = int(meta['head']['num_classes'])
        self.calibration: Optional[dict] = meta.get('calibration')
        preprocess = meta['preprocess']
        # [3] -> [3, 1, 1]: per channel of an NCHW batch
        self._mean = np.asarray(
            preprocess['mean'], dtype=np.float32).reshape(3, 1, 1)
        # [3] -> [3, 1, 1]
        self._std = np.asarray(
            preprocess['std'], dtype=np.float32).reshape(3, 1, 1)
        self._to_rgb = bool(preprocess['to_rgb'])
        self._check_graph()
        self._check_expected(frame_size, fingerprint, state_shapes)
        self._state: Optional[Dict[str, np.ndarray]] = None
        self._fresh: Optional[np.ndarray] = None
        #: Pooled features [B, C] of the last frame.
        self.features: Optional[np.ndarray] = None
        #: Logits [B, num_classes] of the last step.
        self.logits: Optional[np.ndarray] = None

    def _read_metadata(self) -> dict:
        """The ``img_mmaction.*`` metadata, JSON values decoded.

        Raises:
            ValueError: No ``img_mmaction.format``, or another format.
        """
        raw = self.session.get_modelmeta().custom_metadata_map
        found = raw.get(KEY + 'format')
        if found != FORMAT:
            raise ValueError(
                f'{self.path}: not a stream package of format {FORMAT!r} '
                f'(its img_mmaction.format is {found!r}); write one with '
                'OnnxStreamingRecognizer.save_package or the stream '
                'command\'s --save-graph')
        meta = {}
        for key, value in raw.items():
            if key.startswith(KEY) and key != KEY + 'format':
                name = key[len(KEY):]
                meta[name] = value if name in (
                    'precision', 'fingerprint') else json.loads(value)
        return meta

    @property
    def state_names(self) -> List[str]:
        """The layers' state inputs, in the graph's order."""
        return list(self.state_shapes)

    def _check_graph(self) -> None:
        """The metadata's frame size and state layout are the graph's.

        Raises:
            ValueError: They differ; names the file and both layouts.
        """
        inputs = {i.name: i.shape for i in self.session.get_inputs()}
        expected = ['frames', 'fresh', *self.state_shapes, *SUM_STATE]
        if list(inputs) != expected:
            raise ValueError(f'{self.path}: its metadata lists the state '
                             f'{self.state_names}, but its graph takes '
                             f'{list(inputs)[2:len(inputs) - 2]}')
        frames = inputs['frames'][1:]
        if list(frames) != [3, *self.frame_size]:
            raise ValueError(
                f'{self.path}: its metadata says frames of '
                f'{_size(self.frame_size)}, its graph takes {frames}')
        for name, shape in self.state_shapes.items():
            if list(inputs[name][1:]) != list(shape):
                raise ValueError(
                    f'{self.path}: state {name} is {list(shape)} per stream '
                    f'in its metadata, {inputs[name][1:]} in its graph')

    def _check_expected(self, frame_size: Optional[Tuple[int, int]],
                        fingerprint: Optional[str],
                        state_shapes: Optional[Dict[str, Tuple[int,
                                                               ...]]]) -> None:
        """The package is the one the caller expects.

        Raises:
            ValueError: Frame size, fingerprint or state layout differ.
        """
        if frame_size is not None and tuple(frame_size) != self.frame_size:
            raise ValueError(
                f'{self.path} was made for frames of '
                f'{_size(self.frame_size)}, not {_size(frame_size)} '
                '(frame_size)')
        if fingerprint is not None and fingerprint != self.fingerprint:
            raise ValueError(
                f'{self.path} was made from other weights: its fingerprint '
                f'is {self.fingerprint}, the model\'s is {fingerprint}; '
                'build a package from this checkpoint')
        if state_shapes is not None:
            theirs = {k: tuple(v) for k, v in state_shapes.items()}
            if theirs != self.state_shapes:
                differ = [
                    f'{name}: {self.state_shapes.get(name)} in the file, '
                    f'{theirs.get(name)} expected'
                    for name in list(self.state_shapes) +
                    [n for n in theirs if n not in self.state_shapes]
                    if self.state_shapes.get(name) != theirs.get(name)
                ]
                raise ValueError(
                    f'{self.path}: its state layout is not the model\'s '
                    f'({len(differ)} of {len(self.state_shapes)} state '
                    'tensors differ): ' + '; '.join(differ[:4]))

    @property
    def num_streams(self) -> Optional[int]:
        """B, fixed by the first step after :meth:`reset`; None before."""
        return None if self._state is None else len(self._state['frames_seen'])

    @property
    def frames_seen(self) -> np.ndarray:
        """Frames each stream has seen since its reset, [B] (a copy)."""
        if self._state is None:
            return np.zeros(0, dtype=np.int64)
        return self._state['frames_seen'].astype(np.int64)

    def zero_state(self, num_streams: int) -> Dict[str, np.ndarray]:
        """The state before a first frame for B streams: zeros (CMEM's
        norms: ones; masked by ``fresh`` either way)."""
        state = {
            name: (np.ones if name.endswith('.norm') else np.zeros)(
                (num_streams, ) + shape, dtype=np.float32)
            for name, shape in self.state_shapes.items()
        }
        width = self.session.get_inputs()[-2].shape[1]
        state['feature_sum'] = np.zeros((num_streams, width), dtype=np.float32)
        state['frames_seen'] = np.zeros(num_streams, dtype=np.float32)
        return state

    def reset(self, streams: Optional[Sequence[int]] = None) -> None:
        """Starts all streams, or only ``streams``, anew.

        Args:
            streams: Indices of the streams to restart, or None for all
                (the next step may then bring another number of streams).

        Raises:
            IndexError: A stream index is not one of the running streams.
        """
        if streams is None:
            self._state = self._fresh = self.features = self.logits = None
            return
        count = self.num_streams or 0
        for index in streams:
            if not 0 <= index < count:
                raise IndexError(f'PackagedStreamRunner.reset: stream {index} '
                                 f'is not one of the {count} running streams')
        if not streams:
            return
        index = np.asarray(list(streams), dtype=np.int64)
        self._state['feature_sum'][index] = 0
        self._state['frames_seen'][index] = 0
        self._fresh = self._state['frames_seen'] == 0

    def preprocess(self, frames: np.ndarray) -> np.ndarray:
        """The recipe's data preprocessor: to RGB if set, then mean, std.

        Args:
            frames: Raw frames [B, 3, H, W] (the test pipeline's pixels).

        Returns:
            float32 [B, 3, H, W].
        """
        frames = np.asarray(frames, dtype=np.float32)
        if self._to_rgb:
            frames = frames[:, ::-1]
        return np.ascontiguousarray((frames - self._mean) / self._std)

    def step(self, frames: np.ndarray) -> np.ndarray:
        """Feeds the next frame of each stream; returns the scores so far.

        Args:
            frames: Raw frame t of each of B streams, [B, 3, H, W] (the
                test pipeline's pixels, before the preprocessor; any array
                NumPy can read, a CPU torch tensor too).

        Returns:
            Scores [B, num_classes] after frames 1..t of each stream (the
            head's ``average_clips``: softmax for ``'prob'``).

        Raises:
            ValueError: ``frames`` is not [B, 3, H, W] of the package's
                frame size, or B differs from the running streams'.
        """
        frames = np.asarray(frames)
        if frames.ndim != 4 or frames.shape[1] != 3:
            raise ValueError('PackagedStreamRunner.step takes one frame per '
                             'stream, an array of shape [B, 3, H, W]; got '
                             f'{tuple(frames.shape)}')
        if tuple(frames.shape[-2:]) != self.frame_size:
            raise ValueError(
                f'PackagedStreamRunner.step: frames of '
                f'{_size(frames.shape[-2:])}, but {self.path.name} was made '
                f'for {_size(self.frame_size)}')
        num_streams = frames.shape[0]
        if self.num_streams is not None and num_streams != self.num_streams:
            raise ValueError(
                f'PackagedStreamRunner.step: {num_streams} streams in this '
                f'frame batch, but {self.num_streams} streams are running; '
                'call reset() to start another number of streams')
        if self._state is None:
            self._state = self.zero_state(num_streams)
            fresh = np.ones(num_streams, dtype=bool)
        elif self._fresh is not None:
            fresh = self._fresh
        else:
            fresh = np.zeros(num_streams, dtype=bool)
        outputs = self.groups.run(
            self.session,
            dict(frames=self.preprocess(frames), fresh=fresh, **self._state),
            num_streams)
        names = [*self.state_shapes, *SUM_STATE]
        self.features = outputs[0]
        self._state = dict(zip(names, outputs[1:1 + len(names)]))
        self.logits, scores = outputs[1 + len(names):]
        self._fresh = None
        return scores

    def state_nbytes(self) -> int:
        """Bytes held between steps: the graph's state and the running
        sum."""
        return sum(array.nbytes for array in (self._state or {}).values())
