"""The protocol of a causal temporal module that streams (OURS).

The paper's temporal modules look at frame t+1. Their causal forms (OURS,
``causal=True``: docs/online.md) look back only, so a stream runs them one
frame at a time with a small cache of the previous frame. Each such module
subclasses :class:`StreamableModule` and owns its cache: how to compute one
frame from it (:meth:`~StreamableModule.stream_step`), what tensors it holds
and how to rebuild it from them (for the ONNX graph's explicit state), and
what they hold before a first frame. The streaming runner and the ONNX
exporter call only this protocol, so a new causal layer streams without an
edit in either.

A causal module also keeps its mode in its weights: a ``causal_marker``
buffer that only causal modules have. A strict load of an offline
checkpoint into a causal model (or the reverse) is then refused, naming the
module; a non-strict one (mmengine's ``load_checkpoint``) logs it by name,
and the module refuses to stream.
"""
from __future__ import annotations
import warnings
from typing import Any, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn

from img_mmaction.utils.checkpoint import CAUSAL_MARKER


class StreamableModule(nn.Module):
    """A temporal module with a causal form that runs frame by frame (OURS).

    Subclasses implement :meth:`stream_step`, :meth:`cache_tensors` and
    :meth:`cache_from_tensors`, and set :attr:`cache_parts` and
    :attr:`cache_fill`.

    Args:
        causal: Whether the module looks back only. Defaults to False (the
            paper's form, which cannot stream).
    """

    #: Names of the cache's tensors, in :meth:`cache_tensors` order.
    cache_parts: Tuple[str, ...] = ()
    #: The value each cache tensor holds before a first frame (masked by
    #: ``fresh``; it only has to keep the masked arithmetic finite).
    cache_fill: Tuple[float, ...] = ()

    def __init__(self, causal: bool = False) -> None:
        super().__init__()
        self.causal = causal
        #: True after a non-strict load of weights of the other mode.
        self.weights_of_other_mode = False
        if causal:
            self.register_buffer(CAUSAL_MARKER, torch.tensor(True))

    def stream_step(self, x: torch.Tensor, cache: Optional[Any],
                    fresh: Optional[torch.Tensor]) -> Tuple[torch.Tensor, Any]:
        """Frame t of each of B streams, from the cache of frame t-1.

        Args:
            x: Frame t of each stream, [B, C, H, W].
            cache: What the previous call returned, or None when every
                stream is at its first frame.
            fresh: Optional bool mask [B] of streams at their first frame,
                whose cached frame must be ignored.

        Returns:
            The output for frame t, [B, C, H, W], and the new cache.
        """
        raise NotImplementedError

    def cache_tensors(self, cache: Any) -> List[torch.Tensor]:
        """The cache as tensors, in :attr:`cache_parts` order."""
        raise NotImplementedError

    def cache_from_tensors(self, tensors: Sequence[torch.Tensor]) -> Any:
        """The cache from tensors in :attr:`cache_parts` order."""
        raise NotImplementedError

    def _mode_mismatch(self, state_dict: dict, prefix: str) -> Optional[str]:
        """Why the weights under ``prefix`` are of the other mode, if they
        are."""
        marker = prefix + CAUSAL_MARKER
        has_weights = any(
            key.startswith(prefix) and key != marker for key in state_dict)
        name = prefix[:-1] or type(self).__name__
        if self.causal and has_weights and marker not in state_dict:
            return (f'{name}: the checkpoint holds offline (causal=False) '
                    'weights for this causal module (OURS); train the '
                    'causal recipe (configs/online/) or build the model '
                    'with causal=False')
        if not self.causal and marker in state_dict:
            return (f'{name}: the checkpoint holds causal weights '
                    '(causal=True) for this offline module; build the model '
                    'with causal=True (configs/online/)')
        return None

    def _load_from_state_dict(self, state_dict: dict, prefix: str,
                              local_metadata: dict, strict: bool,
                              missing_keys: List[str],
                              unexpected_keys: List[str],
                              error_msgs: List[str]) -> None:
        mismatch = self._mode_mismatch(state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)
        self.weights_of_other_mode = mismatch is not None
        if mismatch is None:
            return
        if strict:  # torch raises them; mmengine logs them when non-strict
            error_msgs.append(mismatch)
        else:
            warnings.warn(mismatch)
