"""Adaptive shift: TSM's shift as a learnable temporal kernel (Sec. 3.2.1)."""
from __future__ import annotations
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch.autograd.function import once_differentiable

from ..causal import StreamableModule
from ..checks import check_frames, check_stream_cache

SHIFT_INITS = ('tsm', 'random', 'identity')
SHIFT_IMPLS = ('sum', 'conv1d')


def tsm_kernel(channels: int, shift_div: int) -> torch.Tensor:
    """Returns the kernel K of Eq. 13 as a [C, 3] tensor.

    Column k multiplies frame t-1, t, t+1 for k = 0, 1, 2 (the paper's
    k = 1, 2, 3). The first ``C // shift_div`` channels take frame t+1
    (shift left, Eq. 10), the next ``C // shift_div`` take frame t-1 (shift
    right, Eq. 11), the rest stay (Eq. 12): exactly MMAction2's
    ``TemporalShift`` and TSM's ``fold``.

    Args:
        channels: Channels C.
        shift_div: Each shifted group has ``C // shift_div`` channels.

    Returns:
        The kernel, of shape [C, 3].
    """
    fold = channels // shift_div
    kernel = torch.zeros(channels, 3)
    kernel[:fold, 2] = 1.0
    kernel[fold:2 * fold, 0] = 1.0
    kernel[2 * fold:, 1] = 1.0
    return kernel


def causal_tsm_kernel(channels: int, shift_div: int) -> torch.Tensor:
    """Returns the causal kernel of TSM's online shift as a [C, 2] tensor.

    OURS (the paper's kernel is :func:`tsm_kernel`). Column k multiplies
    frame t-1, t for k = 0, 1. The first ``C // shift_div`` channels take
    frame t-1, the rest stay: TSM's online (uni-directional) shift, which
    replaces those channels by the previous frame's.

    Args:
        channels: Channels C.
        shift_div: The shifted group has ``C // shift_div`` channels.

    Returns:
        The kernel, of shape [C, 2].
    """
    fold = channels // shift_div
    kernel = torch.zeros(channels, 2)
    kernel[:fold, 0] = 1.0
    kernel[fold:, 1] = 1.0
    return kernel


def _weighted_shift(frames: torch.Tensor, previous: Optional[torch.Tensor],
                    current: torch.Tensor,
                    following: Optional[torch.Tensor]) -> torch.Tensor:
    """``out[t] = previous * x[t-1] + current * x[t] + following * x[t+1]``.

    Frames beyond a clip's ends count as zeros; a tap given as None is
    absent (the causal kernel has no frame t+1).

    Args:
        frames: Input of shape [N, T, A, L], a frames view (see
            :func:`_taps`).
        previous: Weights of frame t-1, broadcastable to [A, L], or None.
        current: Weights of frame t, broadcastable to [A, L].
        following: Weights of frame t+1, broadcastable to [A, L], or None.

    Returns:
        Output of shape [N, T, A, L], in the layout of ``frames``.
    """
    out = frames * current
    if previous is not None:
        out[:, 1:].addcmul_(frames[:, :-1], previous)
    if following is not None:
        out[:, :-1].addcmul_(frames[:, 1:], following)
    return out


def _taps(
    weight: torch.Tensor, row_width: Optional[int]
) -> Tuple[torch.Tensor, torch.Tensor, Optional[torch.Tensor]]:
    """The kernel's columns, shaped to broadcast over a frames view.

    Two frames views of an [N*T, C, H, W] input, both with a contiguous
    last dimension so that the weighted sums run over long rows:

    * NCHW input: [N, T, C, H*W], one weight per row (``row_width=None``);
    * channels_last input: [N, T, H, W*C], the kernel tiled W times along
      each row (``row_width=W``), so that the sums also run over long rows
      rather than rows of only C values (docs/performance.md).

    Args:
        weight: The [C, 3] kernel, or the causal [C, 2] one (OURS).
        row_width: None for the NCHW view, W for the channels_last view.

    Returns:
        Weights of frames t-1, t, t+1: each [C, 1] or [W*C]; that of t+1 is
        None for a causal kernel.
    """
    num_taps = weight.shape[1]
    if row_width is None:
        taps = weight.unsqueeze(-1).unbind(1)
    else:
        # [C, K] -> [K, 1, C] -> [K, W, C] -> [K, W*C], one copy for all
        # taps: element w*C + c of a row is the weight of channel c.
        tiled = weight.t().unsqueeze(1).expand(num_taps, row_width, -1)
        taps = tiled.reshape(num_taps, -1).unbind(0)
    return (taps[0], taps[1], taps[2] if num_taps == 3 else None)


def _per_channel_dot(a: torch.Tensor, b: torch.Tensor,
                     row_width: Optional[int]) -> torch.Tensor:
    """``sum(a * b)`` over all but the channel, for two frames views.

    ``torch.linalg.vecdot``: a product, then a sum over the last dimension.

    Args:
        a: Frames view [N, T', A, L] (see :func:`_taps`).
        b: Frames view of the same shape and layout.
        row_width: None for the NCHW view, W for the channels_last view.

    Returns:
        One value per channel, shape [C].
    """
    if row_width is not None:
        # [N, T', H, W*C] -> [N, T', H*W, C] -> [N, T', C, H*W] (strided)
        channels = a.shape[3] // row_width
        a = a.reshape(a.shape[0], a.shape[1], -1, channels).transpose(2, 3)
        b = b.reshape(b.shape[0], b.shape[1], -1, channels).transpose(2, 3)
    # [N, T', C, H*W] -> [N, T', C] -> [C]
    return torch.linalg.vecdot(a, b).sum((0, 1))


class _ShiftFunction(torch.autograd.Function):
    """The weighted shift with a hand-written backward.

    Autograd's own backward of :func:`_weighted_shift` goes back through
    the in-place slice updates and three broadcast products, one input
    gradient term each, summed. Here the gradient of the input is a single
    weighted shift with the kernel mirrored in time, and the kernel's
    gradient one product-and-sum per tap (:func:`_per_channel_dot`): fewer
    passes over the feature map (docs/performance.md has the timings).
    The causal [C, 2] kernel (OURS) runs the same code without the t+1 tap.
    """

    @staticmethod
    def forward(ctx,
                frames: torch.Tensor,
                weight: torch.Tensor,
                row_width: Optional[int] = None) -> torch.Tensor:
        # frames: a frames view (see _taps); weight: [C, 3] or [C, 2].
        ctx.save_for_backward(frames, weight)
        ctx.row_width = row_width
        return _weighted_shift(frames, *_taps(weight, row_width))

    @staticmethod
    @once_differentiable
    def backward(
        ctx, grad: torch.Tensor
    ) -> Tuple[Optional[torch.Tensor], Optional[torch.Tensor], None]:
        frames, weight = ctx.saved_tensors
        row_width = ctx.row_width
        if grad.stride() != frames.stride():
            # An expanded gradient (from .sum()) or another layout: one
            # dense copy in the layout of the input, which the gradient of
            # the input then keeps.
            grad = torch.empty_like(frames).copy_(grad)
        grad_x = grad_weight = None
        if ctx.needs_input_grad[0]:
            previous, current, following = _taps(weight, row_width)
            # x[t-1] fed out[t] with `previous`: mirror the kernel.
            grad_x = _weighted_shift(grad, following, current, previous)
        if ctx.needs_input_grad[1]:
            columns = [
                _per_channel_dot(grad[:, 1:], frames[:, :-1], row_width),
                _per_channel_dot(grad, frames, row_width),
            ]
            if weight.shape[1] == 3:
                columns.append(
                    _per_channel_dot(grad[:, :-1], frames[:, 1:], row_width))
            # [C] for each tap -> [C, 3] (or [C, 2] when causal)
            grad_weight = torch.stack(columns, dim=1)
        return grad_x, grad_weight, None


@MODELS.register_module()
class AdaptiveShift(StreamableModule):
    """Learnable per-channel temporal kernel of size 3 (Eq. 13, Fig. 4).

    Eq. 13 writes TSM's shift (Eqs. 10-12) as a depthwise convolution over
    time of the input reshaped to [N*H*W, C, T], with a kernel
    K in R^{C x 1 x 3}; the adaptive shift learns K. Two implementations of
    the same operator (tested equal in value and gradient):

    * ``impl='sum'`` (default): a weighted sum of the frame-shifted input,
      ``out[t] = K[:, 0] x[t-1] + K[:, 1] x[t] + K[:, 2] x[t+1]``, on a
      [N, T, C, H*W] view of an NCHW input or a [N, T, H, W*C] view of a
      channels_last one (the output keeps the input's layout), so the
      feature map is never copied into another layout; training uses a
      hand-written backward (:class:`_ShiftFunction`).
    * ``impl='conv1d'``: Eq. 13 literally, Reshape + depthwise ``conv1d``
      + Reshape back (two permuted copies of the feature map).

    Causal form (OURS, not the paper's; ``causal=True``, docs/online.md):
    the kernel has taps t-1 and t only, stored as a [C, 2] parameter
    (columns: frames t-1, t), ``out[t] = K[:, 0] x[t-1] + K[:, 1] x[t]``,
    so frame t never sees frame t+1. Both implementations and the
    hand-written backward run it; :meth:`stream_step` computes one frame
    from the previous frame's input.

    Args:
        channels: Channels C of the input.
        num_segments: Frames per clip, T.
        shift_div: With ``init='tsm'``, ``C // shift_div`` channels are
            shifted each way. Defaults to 8.
        init: ``'tsm'`` (Eq. 13: equals TSM's shift exactly; the paper's
            s-shift-pret), ``'random'`` (the paper's s-shift-random:
            uniform in +-1/sqrt(3), PyTorch's default for a depthwise conv1d
            of kernel 3) or ``'identity'`` (no temporal mixing).
            Defaults to ``'tsm'``. With ``causal=True``: ``'tsm'`` is TSM's
            online shift (:func:`causal_tsm_kernel`: ``C // shift_div``
            channels take frame t-1, the rest stay), ``'random'`` is
            uniform in +-1/sqrt(2) (PyTorch's default for kernel 2),
            ``'identity'`` is no mixing.
        frozen: Keep the kernel fixed; with ``init='tsm'`` this is the
            paper's s-shift-freeze. Defaults to False.
        impl: ``'sum'`` or ``'conv1d'``, see above. Defaults to ``'sum'``.
        causal: Our causal form with a [C, 2] kernel (see above).
            Defaults to False (the paper's [C, 3] kernel).

    Shapes:
        Input and output: [N*T, C, H, W].

    Example:
        >>> import torch
        >>> shift = AdaptiveShift(16, num_segments=8)
        >>> shift(torch.rand(16, 16, 7, 7)).shape
        torch.Size([16, 16, 7, 7])
    """

    def __init__(self,
                 channels: int,
                 num_segments: int,
                 shift_div: int = 8,
                 init: str = 'tsm',
                 frozen: bool = False,
                 impl: str = 'sum',
                 causal: bool = False) -> None:
        super().__init__(causal=causal)
        if init not in SHIFT_INITS:
            raise ValueError(f'AdaptiveShift: init must be one of '
                             f'{SHIFT_INITS}, got {init!r}')
        if impl not in SHIFT_IMPLS:
            raise ValueError(f'AdaptiveShift: impl must be one of '
                             f'{SHIFT_IMPLS}, got {impl!r}')
        if num_segments < 1:
            raise ValueError(f'AdaptiveShift: num_segments must be >= 1, '
                             f'got {num_segments}')
        if shift_div < 1 or channels // shift_div == 0:
            raise ValueError(
                f'AdaptiveShift: channels={channels} // shift_div={shift_div}'
                ' is 0, so no channel would be shifted; use more channels or'
                ' a smaller shift_div.')
        self.channels = channels
        self.num_segments = num_segments
        self.shift_div = shift_div
        self.init = init
        self.frozen = frozen
        self.impl = impl
        # [C, 3]: weights of frames t-1, t, t+1 per channel (K of Eq. 13);
        # [C, 2]: weights of frames t-1, t when causal (OURS).
        self.weight = nn.Parameter(
            self._initial_kernel(), requires_grad=not frozen)

    def _initial_kernel(self) -> torch.Tensor:
        """Returns the initial [C, K] kernel for ``self.init``.

        K = 3, or 2 when causal; column 1 is frame t in both.
        """
        if self.init == 'tsm':
            return (causal_tsm_kernel if self.causal else tsm_kernel)(
                self.channels, self.shift_div)
        num_taps = 2 if self.causal else 3
        kernel = torch.zeros(self.channels, num_taps)
        if self.init == 'identity':
            kernel[:, 1] = 1.0
        else:
            bound = 1.0 / num_taps**0.5
            kernel.uniform_(-bound, bound)
        return kernel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Mixes each channel over frames t-1, t, t+1 of its own clip.

        Over frames t-1, t only when ``causal``.

        Args:
            x: Input of shape [N*T, C, H, W].

        Returns:
            Output of the same shape and dtype.
        """
        num_frames, channels, height, width = x.shape
        num_clips = check_frames(num_frames, self.num_segments,
                                 'AdaptiveShift')
        if self.impl == 'conv1d':
            return self._forward_conv1d(x, num_clips)
        weight = self.weight.to(x.dtype)
        channels_last = (
            x.is_contiguous(memory_format=torch.channels_last)
            and not x.is_contiguous())
        if channels_last:
            # [N*T, C, H, W] (channels_last) -> [N*T, H, W, C] (contiguous)
            # -> [N, T, H, W*C]
            frames = x.permute(0, 2, 3, 1).view(num_clips, self.num_segments,
                                                height, width * channels)
            row_width: Optional[int] = width
        else:
            # [N*T, C, H, W] -> [N, T, C, H*W]
            frames = x.reshape(num_clips, self.num_segments, channels,
                               height * width)
            row_width = None
        needs_grad = torch.is_grad_enabled() and (frames.requires_grad
                                                  or weight.requires_grad)
        if needs_grad and not torch.jit.is_tracing():
            out = _ShiftFunction.apply(frames, weight, row_width)
        else:
            out = _weighted_shift(frames, *_taps(weight, row_width))
        if channels_last:
            # [N, T, H, W*C] -> [N*T, H, W, C] -> [N*T, C, H, W]
            # (channels_last, like the input)
            return out.view(num_frames, height, width,
                            channels).permute(0, 3, 1, 2)
        # [N, T, C, H*W] -> [N*T, C, H, W]
        return out.view(num_frames, channels, height, width)

    def _forward_conv1d(self, x: torch.Tensor, num_clips: int) -> torch.Tensor:
        """Eq. 13 literally: Reshape, depthwise conv1d over T, Reshape back.

        Args:
            x: Input of shape [N*T, C, H, W].
            num_clips: N.

        Returns:
            Output of the same shape.
        """
        num_frames, channels, height, width = x.shape
        # [N*T, C, H, W] -> [N, T, C, H, W] -> [N, H, W, C, T]
        # -> [N*H*W, C, T] (X_rp of Eq. 13)
        x_rp = x.reshape(num_clips, self.num_segments, channels, height,
                         width).permute(0, 3, 4, 2,
                                        1).reshape(-1, channels,
                                                   self.num_segments)
        # [C, K] -> [C, 1, K]: K of Eq. 13, one group per channel
        kernel = self.weight.to(x.dtype).unsqueeze(1)
        if self.causal:
            # Frame t-1 and t only: one zero frame before each clip.
            x_ss = F.conv1d(F.pad(x_rp, (1, 0)), kernel, groups=channels)
        else:
            x_ss = F.conv1d(x_rp, kernel, padding=1, groups=channels)
        # [N*H*W, C, T] -> [N, H, W, C, T] -> [N, T, C, H, W]
        # -> [N*T, C, H, W]
        return x_ss.view(num_clips, height, width, channels,
                         self.num_segments).permute(0, 4, 3, 1, 2).reshape(
                             num_frames, channels, height, width)

    #: The cache: the input of frame t-1.
    cache_parts = ('x', )
    #: Before a first frame: zeros (the clip's padding).
    cache_fill = (0.0, )

    def cache_tensors(self, cache: torch.Tensor) -> List[torch.Tensor]:
        """The cache, frame t-1's input, as one tensor (OURS)."""
        return [cache]

    def cache_from_tensors(self,
                           tensors: Sequence[torch.Tensor]) -> torch.Tensor:
        """The cache from its one tensor (OURS)."""
        return tensors[0]

    def stream_step(self,
                    x: torch.Tensor,
                    cache: Optional[torch.Tensor],
                    fresh: Optional[torch.Tensor] = None
                    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """The causal form on one new frame of each of B streams (OURS).

        ``out = K[:, 0] x(t-1) + K[:, 1] x(t)``: frame t of :meth:`forward`
        on the clips of frames 1..t, given the input of frame t-1.

        Args:
            x: Frame t of each stream, shape [B, C, H, W], in either
                memory layout (the output keeps it).
            cache: What the previous call returned (the input of frame
                t-1, [B, C, H, W]), or None when every stream is at its
                first frame.
            fresh: Optional bool mask [B] of streams at their first frame,
                whose cached frame counts as zeros (the clip's padding).
                Defaults to None (none).

        Returns:
            The output [B, C, H, W] and the new cache: ``x`` itself (not a
            copy; the backbones never modify it in place afterwards).

        Raises:
            RuntimeError: The module is not causal.
            ValueError: The cache does not match ``x``.
        """
        if not self.causal:
            raise RuntimeError(
                'AdaptiveShift.stream_step needs causal=True; the paper\'s '
                'shift mixes in frame t+1, which a stream has not seen yet')
        # [C, 2] -> two [C, 1, 1] taps: frames t-1 and t
        previous, current = self.weight.to(x.dtype)[:, :, None, None].unbind(1)
        out = x * current
        if cache is not None:
            check_stream_cache(cache.shape, x.shape,
                               'AdaptiveShift.stream_step')
            if fresh is not None:
                cache = cache.masked_fill(fresh[:, None, None, None], 0.0)
            out.addcmul_(cache, previous)
        return out, x

    def extra_repr(self) -> str:
        return (f'channels={self.channels}, num_segments={self.num_segments},'
                f' shift_div={self.shift_div}, init={self.init!r}, '
                f'frozen={self.frozen}, impl={self.impl!r}, '
                f'causal={self.causal}')
