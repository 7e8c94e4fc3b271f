"""CMEM: channel attention from short-range motion (paper Sec. 3.1)."""
from __future__ import annotations
from typing import List, NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmcv.cnn import build_conv_layer, build_norm_layer

from .causal import StreamableModule
from .checks import check_frames, check_stream_cache

CMEM_INITS = ('random', 'identity')


class CMEMFrame(NamedTuple):
    """A frame's (or frames') ``conv_trans`` output with its statistics.

    What Eqs. 3-7 read of each frame: the map itself (for the dot product),
    its spatial mean (Eq. 6) and its spatial L2 norm (Eq. 5, floored at
    ``eps``). A causal CMEM keeps frame t-1's between stream steps, so that
    each frame's statistics are computed once.

    Shapes:
        ``y``: [..., C/r, H*W]; ``mean`` and ``norm``: [..., C/r].
    """
    y: torch.Tensor
    mean: torch.Tensor
    norm: torch.Tensor


@MODELS.register_module()
class CMEM(StreamableModule):
    """Channel attention-based motion enhancement module (Eqs. 1-9, Fig. 3).

    For an input X of T frames per clip::

        X^r  = conv_prev * X                                  (Eq. 1)
        Y    = conv_trans * X^r      (once, over all T frames)
        M(t) = Y(t+1) - Y(t)                                  (Eq. 3)
        P(t) = cos(Y(t+1), Y(t)), per channel over H*W        (Eqs. 4-5)
        M, P = 0 for the last frame ("fill the ends with 0s")
        M^q  = AvgPool(M)                                     (Eq. 6)
        F    = alpha * M^q + beta * P                         (Eq. 7)
        F^s  = 2 * sigmoid(conv_exp * F) - 1                  (Eq. 8)
        X^o  = X + X * F^s                                    (Eq. 9)

    Readings of the paper (all of them: docs/model.md):

    * Eq. 3 applies the same ``conv_trans`` to frames t and t-1 with nothing
      between, so it is computed once for all frames and differenced after.
      Average pooling is linear too, so M^q is the difference of the pooled
      maps: the full-resolution M is never materialised.
    * Eq. 8 prints ``2 * sigmoid(conv_exp * F - 1)``; the text says "a
      sigmoid function and a linear transformation", read as
      ``2 * sigmoid(z) - 1``: attention in (-1, 1), so Eq. 9 scales each
      channel by a factor in (0, 2).
    * P(t) is N x C/r x 1 x 1: one cosine per channel over H*W,
      ``A.B / (max(|A|, eps) * max(|B|, eps))``. Two all-zero maps give 0,
      never NaN, and finite gradients.
    * "Fill the ends with 0s": M and P (hence F) are zero for the last
      frame of each clip, as in TEA; its attention is then
      ``2 * sigmoid(bias of conv_exp) - 1``.
    * r, alpha and beta are not given in the paper: arguments, r = 16 as in
      STM/TEA, alpha = beta = 1.
    * Initialisation is not given either. ``init='random'`` (default) keeps
      PyTorch's default for all three convolutions; ``init='identity'``
      zero-initialises ``conv_exp`` (weight and bias), so F^s = 0 and
      X^o = X at step 0: pretrained features pass unchanged until training
      moves ``conv_exp`` (our option, the usual start for a residual
      attention added to pretrained weights).

    Causal form (OURS, not the paper's; ``causal=True``, docs/online.md):
    the same modules and weights with the difference and cosine taken to
    the previous frame, so that frame t never sees frame t+1::

        M(t) = Y(t) - Y(t-1),  P(t) = cos(Y(t), Y(t-1))
        M, P = 0 for the FIRST frame of each clip

    Frame by frame it needs only the previous frame's ``conv_trans`` output
    Y(t-1): :meth:`stream_step` computes one frame from it.

    Args:
        in_channels: Channels C of the input.
        num_segments: Frames per clip, T.
        reduction: Channel reduction ratio r. Defaults to 16.
        alpha: Weight of the difference feature M^q (Eq. 7). Defaults to 1.
        beta: Weight of the cosine feature P (Eq. 7). Defaults to 1.
        eps: Floor of each norm in the cosine (Eq. 5), so that all-zero
            maps give a cosine of 0 and finite gradients. Defaults to 1e-8.
        conv_cfg: Config of the three convolutions. Defaults to None
            (``nn.Conv2d``).
        norm_cfg: Optional norm layer after ``conv_prev``; the paper has
            none. Defaults to None.
        init: ``'random'`` (PyTorch's default initialisation) or
            ``'identity'`` (zero ``conv_exp``: the module starts as the
            identity). Defaults to ``'random'``.
        causal: Our causal form (see above): frame t looks back to t-1
            instead of ahead to t+1. Defaults to False (the paper's).

    Shapes:
        Input and output: [N*T, C, H, W].
    """

    def __init__(self,
                 in_channels: int,
                 num_segments: int,
                 reduction: int = 16,
                 alpha: float = 1.0,
                 beta: float = 1.0,
                 eps: float = 1e-8,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 init: str = 'random',
                 causal: bool = False) -> None:
        super().__init__(causal=causal)
        if init not in CMEM_INITS:
            raise ValueError(f'CMEM: init must be one of {CMEM_INITS}, got '
                             f'{init!r}')
        if in_channels < 1 or num_segments < 1 or reduction < 1:
            raise ValueError(
                'CMEM needs in_channels, num_segments and reduction >= 1, got '
                f'{in_channels}, {num_segments}, {reduction}')
        if eps <= 0:
            raise ValueError(f'CMEM: eps must be > 0, got {eps}')
        self.in_channels = in_channels
        self.num_segments = num_segments
        self.reduction = reduction
        self.alpha = alpha
        self.beta = beta
        self.eps = eps
        self.init = init
        reduced = max(in_channels // reduction, 1)
        self.reduced_channels = reduced
        # Eq. 1: conv_prev, 1x1, C -> C/r
        self.conv_prev = build_conv_layer(
            conv_cfg, in_channels, reduced, 1, bias=False)
        self.norm_prev = (
            build_norm_layer(norm_cfg, reduced)[1]
            if norm_cfg is not None else nn.Identity())
        # Eqs. 3-4: conv_trans, 3x3, shared by frames t and t-1; no bias,
        # which the difference would cancel and the cosine would not.
        self.conv_trans = build_conv_layer(
            conv_cfg, reduced, reduced, 3, padding=1, bias=False)
        # Eq. 8: conv_exp, 1x1, C/r -> C
        self.conv_exp = build_conv_layer(conv_cfg, reduced, in_channels, 1)
        self.init_weights()

    def init_weights(self) -> None:
        """Re-applies ``init='identity'`` (after a parent's initialiser).

        MMAction2's ResNet initialises every ``Conv2d`` of the model it
        contains (Kaiming) when it has no checkpoint; a backbone holding CMEM
        calls this afterwards, so that the identity start survives.
        """
        if self.init == 'identity':
            nn.init.zeros_(self.conv_exp.weight)
            nn.init.zeros_(self.conv_exp.bias)

    def _frames(self, y: torch.Tensor) -> CMEMFrame:
        """``y`` [..., C/r, H*W] with its mean and norm over H*W."""
        norm = y.pow(2).sum(dim=-1).clamp_min(self.eps**2).sqrt()
        return CMEMFrame(y, y.mean(dim=-1), norm)

    def _pair_feature(self, later: CMEMFrame,
                      earlier: CMEMFrame) -> torch.Tensor:
        """F of Eq. 7 for each pair of frames, [..., C/r].

        Eqs. 3 + 6: average pooling commutes with the difference, so M^q is
        the difference of the pooled maps (M itself is never stored); Eqs.
        4-5: one cosine per channel over the H*W positions.
        """
        motion = later.mean - earlier.mean
        cosine = (later.y * earlier.y).sum(dim=-1) / (
            later.norm * earlier.norm)
        return self.alpha * motion + self.beta * cosine

    def motion_feature(self, x: torch.Tensor) -> torch.Tensor:
        """Computes F of Eq. 7.

        Args:
            x: Input of shape [N*T, C, H, W].

        Returns:
            F of shape [N*T, C/r, 1, 1]; zero for the last frame of a clip
            (for the first one when ``causal``).
        """
        num_frames, _, height, width = x.shape
        num_clips = check_frames(num_frames, self.num_segments, 'CMEM')
        y = self.conv_trans(self.norm_prev(self.conv_prev(x)))
        # Statistics in at least float32 (a no-op unless under mixed
        # precision, where squared norms under/overflow in float16).
        # [N*T, C/r, H, W] -> [N, T, C/r, H*W]
        y = y.to(torch.promote_types(y.dtype, torch.float32)).view(
            num_clips, self.num_segments, self.reduced_channels,
            height * width)
        # Each frame's mean and norm are computed once and used for both of
        # its pairs: (t, t+1) with frames 1.. as the later ones.
        frames = self._frames(y)
        feature = self._pair_feature(
            CMEMFrame(*(part[:, 1:] for part in frames)),
            CMEMFrame(*(part[:, :-1] for part in frames)))
        # Pair (t, t+1) belongs to frame t, or to frame t+1 when causal:
        # zeros for the last (first) frame, [N, T-1, C/r] -> [N, T, C/r]
        ends = (1, 0) if self.causal else (0, 1)
        feature = F.pad(feature, (0, 0) + ends).to(x.dtype)
        # [N, T, C/r] -> [N*T, C/r, 1, 1]
        return feature.view(num_frames, self.reduced_channels, 1, 1)

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        """Computes the channel attention F^s of Eq. 8.

        Args:
            x: Input of shape [N*T, C, H, W].

        Returns:
            Attention in (-1, 1) of shape [N*T, C, 1, 1].
        """
        return 2 * torch.sigmoid(self.conv_exp(self.motion_feature(x))) - 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Applies Eq. 9: ``X + X * F^s``.

        Args:
            x: Input of shape [N*T, C, H, W].

        Returns:
            Output of the same shape.
        """
        return x * (1 + self.attention(x))

    #: The cache: frame t-1's ``conv_trans`` output, its mean and norm.
    cache_parts = CMEMFrame._fields
    #: Before a first frame: zeros, and unit norms (the masked cosine of a
    #: fresh stream stays finite).
    cache_fill = (0.0, 0.0, 1.0)

    def cache_tensors(self, cache: CMEMFrame) -> List[torch.Tensor]:
        """The cache's ``y``, ``mean`` and ``norm`` (OURS)."""
        return list(cache)

    def cache_from_tensors(self, tensors: Sequence[torch.Tensor]) -> CMEMFrame:
        """A :class:`CMEMFrame` from ``y``, ``mean`` and ``norm`` (OURS)."""
        return CMEMFrame(*tensors)

    def stream_step(self,
                    x: torch.Tensor,
                    cache: Optional[CMEMFrame],
                    fresh: Optional[torch.Tensor] = None
                    ) -> Tuple[torch.Tensor, CMEMFrame]:
        """The causal form on one new frame of each of B streams (OURS).

        Equals frame t of :meth:`forward` on the clips of frames 1..t, given
        the ``conv_trans`` output of frame t-1 and its statistics.

        Args:
            x: Frame t of each stream, shape [B, C, H, W].
            cache: What the previous call returned for frame t-1 (``y`` of
                shape [B, C/r, H*W]), or None when every stream is at its
                first frame.
            fresh: Optional bool mask [B] of streams at their first frame,
                whose cached frame is ignored. Defaults to None (none).

        Returns:
            The output [B, C, H, W] and the new cache: Y(t) of shape
            [B, C/r, H*W] (in at least float32) with its mean and norm.

        Raises:
            RuntimeError: The module is not causal.
            ValueError: The cache does not match ``x``.
        """
        if not self.causal:
            raise RuntimeError(
                'CMEM.stream_step needs causal=True; the paper\'s CMEM looks '
                'at frame t+1, which a stream has not seen yet')
        num_streams, _, height, width = x.shape
        y = self.conv_trans(self.norm_prev(self.conv_prev(x)))
        # [B, C/r, H, W] -> [B, C/r, H*W]
        y = y.to(torch.promote_types(y.dtype, torch.float32)).view(
            num_streams, self.reduced_channels, height * width)
        current = self._frames(y)
        if cache is None:
            feature = y.new_zeros(num_streams, self.reduced_channels)
        else:
            check_stream_cache(cache.y.shape, y.shape, 'CMEM.stream_step')
            # The pair (t-1, t) belongs to frame t, as in motion_feature.
            feature = self._pair_feature(current, cache)
            if fresh is not None:
                feature = feature.masked_fill(fresh[:, None], 0.0)
        # [B, C/r] -> [B, C/r, 1, 1]
        feature = feature.to(x.dtype).view(num_streams, self.reduced_channels,
                                           1, 1)
        attention = 2 * torch.sigmoid(self.conv_exp(feature)) - 1
        return x * (1 + attention), current
