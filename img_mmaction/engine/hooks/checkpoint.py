"""Checkpoints must fit the model: say exactly what does not, or refuse."""
from __future__ import annotations
from typing import Sequence

import torch.nn as nn
from mmaction.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from img_mmaction.utils.checkpoint import (format_mismatches,
                                           state_dict_mismatches,
                                           strip_module_prefix)


def _model(runner) -> nn.Module:
    model = runner.model
    return model.module if is_model_wrapper(model) else model


@HOOKS.register_module()
class StrictCheckpointHook(Hook):
    """Refuses a checkpoint that does not fit the model, before it loads.

    mmengine loads ``load_from``, ``--checkpoint`` and ``--resume`` files with
    ``strict=False``: missing, unexpected and wrongly shaped tensors are
    printed and skipped, and the run goes on with a partly random model.
    This hook compares the checkpoint with the model first and raises,
    listing every mismatch. Tensors under ``reinit_prefixes`` may differ:
    they are dropped from the checkpoint, keep their initialisation, and the
    log says so (fine-tuning a classifier on a new label set).

    Args:
        reinit_prefixes: Key prefixes that may be re-initialised. Defaults to
            none.
    """

    priority = 'VERY_HIGH'

    def __init__(self, reinit_prefixes: Sequence[str] = ()) -> None:
        self.reinit_prefixes = tuple(reinit_prefixes)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Checks ``checkpoint`` against the model; drops allowed keys."""
        state = checkpoint.get('state_dict', checkpoint)
        target = _model(runner).state_dict()
        differ = state_dict_mismatches(state, target)
        if not differ:
            return
        others = {
            k: v
            for k, v in differ.items()
            if not k.startswith(self.reinit_prefixes)
        }
        if others:
            allowed = (f' (may be re-initialised: {self.reinit_prefixes})'
                       if self.reinit_prefixes else '')
            raise ValueError(
                f'The checkpoint does not fit the model{allowed}; '
                f'{len(others)} tensor(s) differ:\n'
                f'{format_mismatches(others)}')
        for key in list(state):
            if strip_module_prefix(key) in differ:
                del state[key]
        runner.logger.info(
            'Fine-tuning: re-initialised only ' +
            ', '.join(f'{k} (checkpoint {s} -> model {m})'
                      for k, (s, m) in sorted(differ.items())) +
            f'; the other {len(target) - len(differ)} tensors are loaded.')


@HOOKS.register_module()
class FinetuneCheckpointHook(StrictCheckpointHook):
    """:class:`StrictCheckpointHook` that lets the classifier re-initialise.

    Loading a 174-class SthV1 checkpoint into a 101- or 51-class model must
    re-initialise only the classifier: this hook logs exactly which tensors
    keep their fresh initialisation and refuses any other mismatch.

    Args:
        reinit_prefixes: Key prefixes that may be re-initialised. Defaults to
            ``('cls_head.fc_cls.',)``.
    """

    def __init__(self, reinit_prefixes: Sequence[str] = ('cls_head.fc_cls.', )
                 ) -> None:
        super().__init__(reinit_prefixes)
