"""Checks, before a run, that backbone and head agree on num_segments."""
from __future__ import annotations

from mmaction.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper


def check_num_segments(model) -> None:
    """Raises if the backbone and the head regroup frames differently.

    ``TSMHead`` reshapes features with its own ``num_segments``; a backbone
    built with another value would silently mix frames of different clips.

    Raises:
        ValueError: The two values differ.
    """
    model = model.module if is_model_wrapper(model) else model
    backbone = getattr(getattr(model, 'backbone', None), 'num_segments', None)
    head = getattr(getattr(model, 'cls_head', None), 'num_segments', None)
    if backbone is not None and head is not None and backbone != head:
        raise ValueError(
            f'model.backbone.num_segments={backbone} but '
            f'model.cls_head.num_segments={head}: set both to the number of '
            'TSN segments the sampler produces (num_clips).')


@HOOKS.register_module()
class NumSegmentsCheckHook(Hook):
    """Runs :func:`check_num_segments` before training or testing starts."""

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        check_num_segments(runner.model)
