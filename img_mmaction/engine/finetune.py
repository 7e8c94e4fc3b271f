"""Fine-tuning: say exactly which tensors a ``load_from`` re-initialises."""
from __future__ import annotations

from typing import Sequence

from mmaction.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper


@HOOKS.register_module()
class FinetuneCheckpointHook(Hook):
    """Checks a fine-tuning checkpoint against the model before it loads.

    Loading a 174-class SthV1 checkpoint into a 101- or 51-class model must
    re-initialise only the classifier. mmengine silently skips tensors of
    another shape (and prints the mismatch to stdout, not to the log); this
    hook compares the checkpoint with the model first, logs which tensors
    keep their fresh initialisation, drops them from the checkpoint, and
    raises if any other tensor is missing or of another shape.

    Args:
        reinit_prefixes: Key prefixes that may be re-initialised. Defaults to
            ``('cls_head.fc_cls.',)``.
    """

    priority = 'VERY_HIGH'

    def __init__(self, reinit_prefixes: Sequence[str] = ('cls_head.fc_cls.',)
                 ) -> None:
        self.reinit_prefixes = tuple(reinit_prefixes)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        state = checkpoint.get('state_dict', checkpoint)
        source = {k[len('module.'):] if k.startswith('module.') else k: v
                  for k, v in state.items()}
        target = model.state_dict()
        differ = {
            k: (tuple(source[k].shape) if k in source else None,
                tuple(v.shape))
            for k, v in target.items()
            if k not in source or tuple(source[k].shape) != tuple(v.shape)
        }
        differ = {k: v for k, v in differ.items()
                  if not k.endswith('num_batches_tracked')}
        if not differ:
            return
        others = {k: v for k, v in differ.items()
                  if not k.startswith(self.reinit_prefixes)}
        if others:
            raise ValueError(
                'The checkpoint does not fit the model beyond the classifier '
                f'(allowed: {self.reinit_prefixes}): ' + ', '.join(
                    f'{k} checkpoint {s} vs model {m}'
                    for k, (s, m) in sorted(others.items())))
        for key in list(state):
            bare = key[len('module.'):] if key.startswith('module.') else key
            if bare in differ:
                del state[key]
        runner.logger.info(
            'Fine-tuning: re-initialised only ' + ', '.join(
                f'{k} (checkpoint {s} -> model {m})'
                for k, (s, m) in sorted(differ.items())) +
            f'; the other {len(target) - len(differ)} tensors are loaded.')
