"""Writes a stream package: one ONNX file a runner needs alone (OURS).

The package is the runner's frame step (fp32 or int8) with the running
mean over frames and the classifier appended as float nodes, and the
metadata :class:`~img_mmaction.deploy.packaged_stream.PackagedStreamRunner`
reads and checks (the layout: its module docstring; the choices:
docs/notes/int8.md).
"""
from __future__ import annotations
import datetime
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Optional, Tuple, Union

import numpy as np
import torch
import torch.nn as nn

from img_mmaction.models.streaming import StreamingRecognizer
from .packaged_stream import FORMAT, KEY, NEXT, SUM_STATE

if TYPE_CHECKING:  # types only: onnx_stream imports this module
    import onnx

    from .onnx_stream import OnnxStreamingRecognizer

#: Prefix of the names of the nodes and weights appended to the frame step.
TAIL = 'stream_tail/'


def weights_fingerprint(model: nn.Module) -> str:
    """SHA-256 of a model's parameters and buffers, in ``state_dict`` order.

    Only dtypes, shapes and values count, not names: a streaming runner's
    module tree (which wraps the causal modules and shares the tensors)
    has its model's fingerprint.

    Args:
        model: A module.

    Returns:
        64 hex digits.
    """
    digest = hashlib.sha256()
    for tensor in model.state_dict().values():
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f'{tensor.dtype}{tuple(tensor.shape)}'.encode())
        digest.update(tensor.numpy().tobytes() if tensor.dtype !=
                      torch.bfloat16 else tensor.float().numpy().tobytes())
    return digest.hexdigest()


def stream_state_shapes(model: nn.Module,
                        frame_size: Tuple[int,
                                          int]) -> Dict[str, Tuple[int, ...]]:
    """The state layout a frame step of ``model`` has at ``frame_size``.

    The names and per-stream shapes of the graph's state inputs, as
    :attr:`OnnxStreamingRecognizer.state_shapes` gives them, from one
    frame of zeros through PyTorch (no export).

    Args:
        model: A causal recognizer (not a runner's module tree).
        frame_size: (H, W).

    Returns:
        ``{name: shape}`` in the graph's input order.

    Raises:
        ValueError: The model cannot stream.
    """
    from .onnx_stream import _layer_names
    runner = StreamingRecognizer(model)
    with torch.no_grad():
        runner.model.backbone(torch.zeros(1, 3, *frame_size))
    names = [
        f'{layer_name}.{part}'
        for layer_name, layer in zip(_layer_names(runner), runner.layers)
        for part in layer.cache_parts
    ]
    tensors = [t for layer in runner.layers for t in layer.cache_tensors()]
    return {
        name: tuple(tensor.shape[1:])
        for name, tensor in zip(names, tensors)
    }


def preprocess_metadata(model: nn.Module) -> dict:
    """The data preprocessor's mean, std and ``to_rgb``, for NumPy.

    Args:
        model: The recognizer (or a runner's module tree).

    Returns:
        ``dict(mean=[3 floats], std=[3 floats], to_rgb=bool)``; mean 0 and
        std 1 where the preprocessor does not normalise.

    Raises:
        ValueError: The preprocessor is not MMAction2's
            ``ActionDataPreprocessor`` for NCHW frames.
    """
    preprocessor = model.data_preprocessor
    kind = type(preprocessor).__name__
    if kind != 'ActionDataPreprocessor' or getattr(
            preprocessor, 'format_shape', None) != 'NCHW':
        raise ValueError(
            'a stream package stores ActionDataPreprocessor(format_shape='
            f"'NCHW')'s mean and std; this model has {kind} with "
            f'format_shape={getattr(preprocessor, "format_shape", None)!r}')
    if getattr(preprocessor, '_enable_normalize', False):
        mean = preprocessor.mean.flatten().tolist()
        std = preprocessor.std.flatten().tolist()
    else:
        mean, std = [0.0] * 3, [1.0] * 3
    return dict(mean=mean, std=std, to_rgb=bool(preprocessor.to_rgb))


def _append_tail(graph: 'onnx.GraphProto', fc: nn.Linear,
                 average_clips: Optional[str]) -> None:
    """Running mean and classifier after the frame step, in place.

    New inputs ``feature_sum`` [B, C] and ``frames_seen`` [B] (float32);
    new outputs their next values, ``logits`` and ``scores``.
    """
    from onnx import TensorProto, helper, numpy_helper
    width = fc.in_features
    graph.input.extend([
        helper.make_tensor_value_info(SUM_STATE[0], TensorProto.FLOAT,
                                      ['streams', width]),
        helper.make_tensor_value_info(SUM_STATE[1], TensorProto.FLOAT,
                                      ['streams'])
    ])
    weights = {
        'one':
        np.ones((), dtype=np.float32),
        'axis1':
        np.array([1], dtype=np.int64),
        'fc.weight':
        fc.weight.detach().float().numpy(),
        'fc.bias':
        (fc.bias.detach().float().numpy() if fc.bias is not None else np.zeros(
            fc.out_features, dtype=np.float32)),
    }
    graph.initializer.extend(
        numpy_helper.from_array(value, TAIL + name)
        for name, value in weights.items())
    next_sum, next_seen = (NEXT + name for name in SUM_STATE)
    scores = 'Softmax' if average_clips == 'prob' else 'Identity'
    extra = dict(axis=1) if scores == 'Softmax' else {}
    graph.node.extend([
        helper.make_node(
            'Add', [SUM_STATE[0], 'features'], [next_sum], name=TAIL + 'sum'),
        helper.make_node(
            'Add', [SUM_STATE[1], TAIL + 'one'], [next_seen],
            name=TAIL + 'count'),
        # [B] -> [B, 1]
        helper.make_node(
            'Unsqueeze', [next_seen, TAIL + 'axis1'], [TAIL + 'seen'],
            name=TAIL + 'unsqueeze'),
        helper.make_node(
            'Div', [next_sum, TAIL + 'seen'], [TAIL + 'mean'],
            name=TAIL + 'mean'),
        helper.make_node(
            'Gemm', [TAIL + 'mean', TAIL + 'fc.weight', TAIL + 'fc.bias'],
            ['logits'],
            name=TAIL + 'fc',
            transB=1),
        helper.make_node(
            scores, ['logits'], ['scores'], name=TAIL + 'scores', **extra)
    ])
    graph.output.extend([
        helper.make_tensor_value_info(next_sum, TensorProto.FLOAT,
                                      ['streams', width]),
        helper.make_tensor_value_info(next_seen, TensorProto.FLOAT,
                                      ['streams']),
        helper.make_tensor_value_info('logits', TensorProto.FLOAT,
                                      ['streams', fc.out_features]),
        helper.make_tensor_value_info('scores', TensorProto.FLOAT,
                                      ['streams', fc.out_features])
    ])


def build_package(runner: 'OnnxStreamingRecognizer',
                  frame_step: bytes) -> 'onnx.ModelProto':
    """The package of a runner's frame step, as an ONNX ``ModelProto``.

    Args:
        runner: The runner (model, frame size, state, precision,
            calibration summary).
        frame_step: The frame step it runs (ONNX bytes).

    Returns:
        The package (see :mod:`img_mmaction.deploy.packaged_stream`).
    """
    import onnx
    import onnxruntime
    head = runner.model.cls_head
    model = onnx.load_from_string(frame_step)
    _append_tail(model.graph, head.fc_cls, head.average_clips)
    calibration = getattr(runner, 'calibration', None)
    metadata = {
        'format':
        FORMAT,
        'precision':
        runner.precision,
        'fingerprint':
        weights_fingerprint(runner.model),
        'frame_size':
        json.dumps(list(runner.frame_size)),
        'state':
        json.dumps([[name, list(shape)]
                    for name, shape in runner.state_shapes.items()]),
        'preprocess':
        json.dumps(preprocess_metadata(runner.model)),
        'head':
        json.dumps(
            dict(
                num_classes=int(head.num_classes),
                average_clips=head.average_clips)),
        'calibration':
        json.dumps(calibration),
        'producer':
        json.dumps(
            dict(
                torch=torch.__version__,
                onnx=onnx.__version__,
                onnxruntime=onnxruntime.__version__,
                date=datetime.date.today().isoformat())),
    }
    del model.metadata_props[:]
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = KEY + key, value
    return model


def save_package(runner: 'OnnxStreamingRecognizer', frame_step: bytes,
                 path: Union[str, Path]) -> Path:
    """Writes :func:`build_package` to ``path``.

    Args:
        runner: The runner.
        frame_step: The frame step it runs (ONNX bytes).
        path: The file to write.

    Returns:
        ``path``.
    """
    import onnx
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(build_package(runner, frame_step), str(path))
    return path
