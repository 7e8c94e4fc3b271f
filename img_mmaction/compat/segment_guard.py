"""Fix 8: ``Recognizer2D`` regroups frames without checking that they fit.

``Recognizer2D`` flattens each sample's frames into the batch and lets the
backbone and the head regroup them by their own ``num_segments``. Nothing
checks that a sample's frame count is a multiple of the backbone's
``num_segments``, or that the head (``TSMHead``) regroups by the same number:
a sampler with ``num_clips=6`` for an 8-segment model and batch 4 (24 frames)
trains to the end with clips silently mixed across samples (MMAction2 PR 241
measured ~10 points lost to such a mix-up in testing), and a head of 4 vs a
backbone of 8 segments fails with a numpy broadcast error. Every forward of
a ``Recognizer2D`` (and its subclasses) whose backbone or head has
``num_segments`` now checks both first and raises a ``ValueError`` that
names the numbers and the config keys to change. The one-clip-per-sample
rule of training is checked in the training step (``mode='loss'``) only:
``mode='tensor'`` and ``mode='predict'`` take several clips, as in stock
MMAction2. A head whose ``in_channels`` differs from the channels the
backbone gives is named with both numbers, where torch would only say
``mat1 and mat2 shapes cannot be multiplied``.

This module imports MMAction2: :mod:`img_mmaction.compat` imports it only
after fix 1 made ``mmaction.models`` importable.
"""
from __future__ import annotations
import functools
import re
from typing import Any, Optional

import torch
import torch.nn as nn
from mmaction.models.recognizers import Recognizer2D
from mmengine.registry import DefaultScope

from ._originals import ORIGINALS

UPSTREAM = 'mmaction2 models/recognizers/recognizer2d.py (cf. PR 241)'


def check_segments(recognizer: nn.Module, inputs: torch.Tensor,
                   test_mode: bool) -> None:
    """Raises if a sample's frames cannot be regrouped as the model expects.

    Args:
        recognizer: A ``Recognizer2D``.
        inputs: Its input, [N, frames per sample, C, H, W].
        test_mode: Whether the forward is a test (several views allowed).

    Raises:
        ValueError: The backbone and the head disagree on ``num_segments``;
            or a sample's frames are not a multiple of it; or, in training,
            a TSM-style head gets more than one clip per sample.
    """
    backbone: Optional[int] = getattr(recognizer.backbone, 'num_segments',
                                      None)
    head = getattr(recognizer, 'cls_head', None)
    head_segments: Optional[int] = getattr(head, 'num_segments', None)
    if (backbone is not None and head_segments is not None
            and backbone != head_segments):
        raise ValueError(
            f'model.backbone.num_segments={backbone} but '
            f'model.cls_head.num_segments={head_segments}: the head would '
            'regroup the backbone\'s frames into other clips; set both to the '
            'number of TSN segments the sampler produces (num_clips).')
    segments = backbone if backbone is not None else head_segments
    if segments is None or inputs.dim() != 5:
        return
    frames = inputs.shape[1]
    if frames % segments != 0:
        raise ValueError(
            f'each sample has {frames} frames, which is not a multiple of '
            f'model.backbone.num_segments={segments}: the model would mix '
            'frames of different samples into one clip. Make the sampler give '
            f'{segments} frames per clip (SampleFrames num_clips x clip_len '
            'in the pipeline) or set num_segments (backbone and head) to '
            'what it gives.')
    if not test_mode and head_segments is not None and frames != segments:
        raise ValueError(
            f'each training sample has {frames} frames, i.e. '
            f'{frames // segments} clips of num_segments={segments}; '
            f'{type(head).__name__} gives one score per clip, and training '
            'needs one per sample: sample one clip per video in training '
            f'(SampleFrames num_clips={segments}, no twice_sample).')


def _head_channels_error(recognizer: nn.Module,
                         channels: int) -> Optional[ValueError]:
    """The error for a head that takes other channels than it gets."""
    head = getattr(recognizer, 'cls_head', None)
    expected = getattr(head, 'in_channels', None)
    if expected is None or recognizer.with_neck or channels == expected:
        return None
    return ValueError(
        f'model.cls_head.in_channels={expected}, but the backbone gives '
        f'{channels} channels ({type(recognizer.backbone).__name__}): set '
        f'model.cls_head.in_channels={channels}')


def _check_head_channels(recognizer: nn.Module, feats: Any) -> None:
    """Raises when the head's ``in_channels`` differs from ``feats``'."""
    if isinstance(feats, torch.Tensor) and feats.dim() >= 2:
        error = _head_channels_error(recognizer, int(feats.shape[1]))
        if error is not None:
            raise error


_MATMUL = re.compile(r'mat1 and mat2 shapes cannot be multiplied '
                     r'\((\d+)x(\d+) and (\d+)x(\d+)\)')


def _guarded_extract_feat(extract_feat):

    @functools.wraps(extract_feat)
    def extract_feat_checked(self, inputs: torch.Tensor, *args: Any,
                             **kwargs: Any):
        # Several clips per sample are fine here: training's one-clip rule
        # is checked by the training step (_guarded_loss).
        check_segments(self, inputs, test_mode=True)
        stage = kwargs.get('stage', args[0] if args else 'neck')
        try:
            feats, extra = extract_feat(self, inputs, *args, **kwargs)
        except RuntimeError as err:
            match = _MATMUL.search(str(err))
            error = match and _head_channels_error(self, int(match.group(2)))
            if error is not None:
                raise error from err
            raise
        if stage == 'neck':
            _check_head_channels(self, feats)
        return feats, extra

    extract_feat_checked.img_mmaction_guard = True
    return extract_feat_checked


def _guarded_loss(loss):

    @functools.wraps(loss)
    def loss_checked(self, inputs: torch.Tensor, *args: Any, **kwargs: Any):
        check_segments(self, inputs, test_mode=False)
        return loss(self, inputs, *args, **kwargs)

    loss_checked.img_mmaction_guard = True
    return loss_checked


class _ProbeBackbone(nn.Module):
    """A 2-segment backbone: pools each frame to [N*T, 4, 1, 1]."""

    num_segments = 2

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x).mean((2, 3), keepdim=True)


def needed() -> bool:
    """A stock Recognizer2D takes 3 frames per sample for 2 segments."""
    original = ORIGINALS.get('Recognizer2D.extract_feat',
                             Recognizer2D.extract_feat)
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = Recognizer2D(
            backbone=dict(type=_ProbeBackbone),
            cls_head=dict(type='TSNHead', num_classes=2, in_channels=4))
    try:
        with torch.no_grad():
            original(model, torch.zeros(1, 3, 3, 2, 2), stage='head')
    except ValueError:
        return False
    return True


def install() -> None:
    """Wraps ``Recognizer2D.extract_feat`` (every mode) and
    ``Recognizer2D.loss`` (the training step) with the checks."""
    current = Recognizer2D.extract_feat
    if getattr(current, 'img_mmaction_guard', False):
        return
    ORIGINALS['Recognizer2D.extract_feat'] = current
    ORIGINALS['Recognizer2D.loss'] = Recognizer2D.loss
    Recognizer2D.extract_feat = _guarded_extract_feat(current)
    Recognizer2D.loss = _guarded_loss(Recognizer2D.loss)
