"""Frame-by-frame inference of a causal IMG recognizer (OURS, not the paper's).

The paper's IMG is offline: CMEM looks at frame t+1 and the adaptive shift
mixes t-1, t, t+1. Built with ``cmem_cfg=dict(causal=True)`` and
``temporal_cfg=dict(type='AdaptiveShift', causal=True)`` every temporal
module looks back only, to frame t-1, so a new frame costs one 2D pass of
the network plus a cache of the previous frame's small tensors per layer:

* a causal CMEM caches its ``conv_trans`` output Y(t-1) ([B, C/r, H*W])
  with its spatial mean and norm ([B, C/r] each), a ``CMEMFrame``;
* a causal adaptive shift caches its input x(t-1) ([B, C, H, W]);
* any other :class:`~img_mmaction.models.causal.StreamableModule` caches
  what it says it needs: the runner calls only that protocol.

:class:`StreamingRecognizer` runs a trained ``Recognizer2D`` that way for B
streams at once. Its scores after frame t are the head applied to the
running mean of the per-frame pooled features, i.e. TSN/TSM's average
consensus over frames 1..t, and equal those of the offline causal model
(same weights, ``num_segments=t``) on frames 1..t (docs/online.md).

Example:
    >>> runner = StreamingRecognizer(model)   # a trained causal recognizer
    >>> for frame in camera:                  # [B, 3, H, W], raw pixels
    ...     scores = runner.step(frame)       # [B, num_classes]
    >>> runner.reset()                        # a new video
"""
from __future__ import annotations
import copy
import itertools
from typing import Any, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn

from .causal import StreamableModule
from .clim import CLIM
from .res2net_img import Res2NetIMG
from .resnet_img import ResNetIMG

#: Backbones that can stream (when every temporal module in them is causal).
STREAMABLE_BACKBONES = (Res2NetIMG, ResNetIMG)
#: Modules with a ``num_segments`` that regroup frames into clips only to
#: check the batch: frame by frame they see clips of one frame.
FRAMEWISE = (Res2NetIMG, ResNetIMG, CLIM)
#: Heads whose score is ``fc`` of the average of pooled frame features.
STREAMABLE_HEADS = ('TSNHead', 'TSMHead')
HOW_TO_BUILD = ("build the backbone with cmem_cfg=dict(causal=True) and "
                "temporal_cfg=dict(type='AdaptiveShift', causal=True)")


class StreamingLayer(nn.Module):
    """A causal module with its cache for B streams.

    Args:
        module: The causal module (a :class:`StreamableModule`, e.g. a
            causal CMEM or adaptive shift), whose ``stream_step`` computes
            one frame from the cache of the previous one.

    Shapes:
        Input and output: [B, C, H, W], frame t of each stream.
    """

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module
        #: What ``stream_step`` returned for frame t-1; None: no frame yet.
        self.cache: Optional[Any] = None
        #: Bool mask [B] of streams at their first frame, or None for none.
        self.fresh: Optional[torch.Tensor] = None

    @property
    def cache_parts(self) -> Tuple[str, ...]:
        """Names of the cache's tensors, in order (the module's)."""
        return self.module.cache_parts

    def cache_tensors(self) -> List[torch.Tensor]:
        """The cache as tensors in :attr:`cache_parts` order; empty before
        the first frame."""
        if self.cache is None:
            return []
        return self.module.cache_tensors(self.cache)

    def load_cache(self, tensors: Sequence[torch.Tensor]) -> None:
        """Sets the cache from tensors in :attr:`cache_parts` order."""
        self.cache = self.module.cache_from_tensors(tensors)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Runs frame t and keeps what frame t+1 will need.

        Args:
            x: Frame t of each stream, [B, C, H, W].

        Returns:
            The module's output for frame t, [B, C, H, W].
        """
        out, self.cache = self.module.stream_step(x, self.cache, self.fresh)
        return out


def streaming_problems(model: nn.Module) -> List[str]:
    """Why ``model`` cannot run frame by frame; empty when it can.

    Args:
        model: A recognizer.

    Returns:
        One line per problem, each naming the module (by its name in the
        model) and what to change.
    """
    from mmaction.models import Recognizer2D
    if not isinstance(model, Recognizer2D):
        return [f'model: a {type(model).__name__}, not a Recognizer2D']
    problems = []
    if model.with_neck:
        problems.append('neck: a neck is not supported frame by frame')
    backbone = model.backbone
    if not isinstance(backbone, STREAMABLE_BACKBONES):
        names = ' or '.join(b.__name__ for b in STREAMABLE_BACKBONES)
        problems.append(f'backbone: {type(backbone).__name__} has no '
                        f'streaming form; use {names} and {HOW_TO_BUILD}')
        return problems
    if len(backbone.out_indices) != 1:
        problems.append(f'backbone: out_indices={backbone.out_indices}; the '
                        'head takes the output of one stage')
    for name, module in backbone.named_modules(prefix='backbone'):
        if isinstance(module, StreamableModule):
            if not module.causal:
                problems.append(
                    f'{name}: {type(module).__name__} with causal=False '
                    f'looks at frame t+1; {HOW_TO_BUILD}')
            elif module.weights_of_other_mode:
                problems.append(
                    f'{name}: {type(module).__name__} weights loaded from an '
                    'offline (causal=False) checkpoint; load a checkpoint '
                    'of the causal model')
        elif hasattr(module,
                     'num_segments') and not isinstance(module, FRAMEWISE):
            problems.append(
                f'{name}: {type(module).__name__} mixes frames and has no '
                'causal streaming form; use a causal AdaptiveShift or None')
    head = model.cls_head
    head_type = type(head).__name__
    if head_type not in STREAMABLE_HEADS:
        problems.append(f'cls_head: {head_type}; streaming supports '
                        f'{" and ".join(STREAMABLE_HEADS)}')
        return problems
    if head.avg_pool is None:
        problems.append(f"cls_head: {head_type} needs spatial_type='avg'")
    if type(head.consensus).__name__ != 'AvgConsensus':
        problems.append(f'cls_head: consensus is '
                        f'{type(head.consensus).__name__}, not AvgConsensus')
    if getattr(head, 'temporal_pool', False):
        problems.append('cls_head: temporal_pool=True pools frames in pairs')
    return problems


class StreamingRecognizer:
    """Runs a causal ``Recognizer2D`` frame by frame for B streams (OURS).

    The runner builds its own module tree (a copy of the model's that
    shares the model's parameters and buffers: no second copy of the
    weights), in eval mode, in which every causal CMEM and adaptive shift
    is wrapped in a :class:`StreamingLayer` and every ``num_segments`` is 1.
    The model itself is left as it was.

    Frames are raw: the pixels the recipe's test pipeline gives (decoded,
    resized, cropped; values 0-255, RGB, [3, H, W] each), before the
    model's ``data_preprocessor``, which the runner applies (mean, std,
    ``to_rgb``) exactly as ``mim test`` does.

    Args:
        model: A trained ``Recognizer2D`` with a Res2NetIMG or ResNetIMG
            backbone in which every CMEM and adaptive shift is causal (or
            absent), and a TSNHead or TSMHead with average pooling and
            average consensus.

    Raises:
        ValueError: The model cannot stream; the message names every
            module that stops it.
    """

    def __init__(self, model: nn.Module) -> None:
        problems = streaming_problems(model)
        if problems:
            raise ValueError('StreamingRecognizer: the model cannot run '
                             'frame by frame:\n  ' + '\n  '.join(problems))
        shared = {
            id(tensor): tensor
            for tensor in itertools.chain(model.parameters(), model.buffers())
        }
        self.model = copy.deepcopy(model, shared).eval()
        for module in self.model.modules():
            # The causal modules run through ``stream_step`` only, which
            # reads no ``num_segments``.
            if isinstance(module, FRAMEWISE):
                module.num_segments = 1
        self.layers: List[StreamingLayer] = []
        for parent in list(self.model.modules()):
            for name, child in list(parent.named_children()):
                if isinstance(child, StreamableModule):
                    layer = StreamingLayer(child)
                    setattr(parent, name, layer)
                    self.layers.append(layer)
        self._seen: Optional[torch.Tensor] = None
        self._feature_sum: Optional[torch.Tensor] = None
        #: Logits [B, num_classes] of the last step (before average_clips).
        self.logits: Optional[torch.Tensor] = None

    @property
    def num_streams(self) -> Optional[int]:
        """B, fixed by the first step after :meth:`reset`; None before."""
        return None if self._seen is None else int(self._seen.numel())

    @property
    def frames_seen(self) -> torch.Tensor:
        """Frames each stream has seen since its reset, [B] (a copy)."""
        if self._seen is None:
            return torch.zeros(0, dtype=torch.long)
        return self._seen.clone()

    def reset(self, streams: Optional[Sequence[int]] = None) -> None:
        """Starts all streams, or only ``streams``, anew.

        Args:
            streams: Indices of the streams to restart (the others go on),
                or None for all: the next step may then bring another
                number of streams.

        Raises:
            IndexError: A stream index is not one of the running streams.
        """
        if streams is None:
            self._seen = self._feature_sum = self.logits = None
            self._clear_state()
            return
        count = self.num_streams or 0
        for index in streams:
            if not 0 <= index < count:
                raise IndexError(f'StreamingRecognizer.reset: stream {index} '
                                 f'is not one of the {count} running streams')
        if not streams:
            return
        index = torch.as_tensor(list(streams), dtype=torch.long)
        self._seen[index] = 0
        self._feature_sum[index] = 0
        # The next step ignores these streams' cache rows; the mask is set
        # here, once, and dropped after that step.
        self._mark_fresh(self._seen == 0)

    def _clear_state(self) -> None:
        """Drops every layer's cache: the next step starts all streams."""
        for layer in self.layers:
            layer.cache = layer.fresh = None

    def _mark_fresh(self, fresh: torch.Tensor) -> None:
        """Makes the next step ignore the caches of the streams in
        ``fresh`` (a bool mask [B])."""
        for layer in self.layers:
            layer.fresh = fresh

    def _pooled_features(self, inputs: torch.Tensor) -> torch.Tensor:
        """Frame t through the backbone and the head's spatial pooling.

        Args:
            inputs: Frame t of each stream after the data preprocessor,
                [B, 3, H, W].

        Returns:
            The pooled features [B, C]; the caches now hold frame t.
        """
        # [B, C, h, w] -> [B, C, 1, 1] -> [B, C]
        pooled = self.model.cls_head.avg_pool(
            self.model.backbone(inputs)).flatten(1)
        if self.layers and self.layers[0].fresh is not None:
            for layer in self.layers:
                layer.fresh = None
        return pooled

    @torch.no_grad()
    def step(self, frames: torch.Tensor) -> torch.Tensor:
        """Feeds the next frame of each stream; returns the scores so far.

        Args:
            frames: Raw frame t of each of B streams, [B, 3, H, W] (see the
                class docstring); B must stay the same until
                :meth:`reset`.

        Returns:
            Scores [B, num_classes] after frames 1..t of each stream, as
            the head's ``average_clips`` gives them (``'prob'``: softmax).

        Raises:
            ValueError: ``frames`` is not [B, 3, H, W], or B differs from
                the running streams'.
        """
        if frames.ndim != 4 or frames.shape[1] != 3:
            raise ValueError('StreamingRecognizer.step takes one frame per '
                             'stream, a tensor of shape [B, 3, H, W]; got '
                             f'{tuple(frames.shape)}')
        num_streams = frames.shape[0]
        if self.num_streams is not None and num_streams != self.num_streams:
            raise ValueError(
                f'StreamingRecognizer.step: {num_streams} streams in this '
                f'frame batch, but {self.num_streams} streams are running; '
                'call reset() to start another number of streams')
        inputs = self.model.data_preprocessor(
            dict(inputs=list(frames), data_samples=None))['inputs']
        pooled = self._pooled_features(inputs)
        if self._seen is None:
            self._seen = torch.zeros(
                num_streams, dtype=torch.long, device=pooled.device)
            self._feature_sum = torch.zeros_like(pooled)
        self._feature_sum += pooled
        self._seen += 1
        # Average consensus over frames 1..t, then the classifier.
        mean = self._feature_sum / self._seen[:, None]
        head = self.model.cls_head
        self.logits = head.fc_cls(mean)
        return head.average_clip(self.logits, num_segs=1)

    def state_nbytes(self) -> int:
        """Bytes held between steps: the layers' caches and the feature sum.
        """
        tensors = [self._feature_sum]
        for layer in self.layers:
            tensors.extend(layer.cache_tensors())
        return sum(t.nbytes for t in tensors if t is not None)
