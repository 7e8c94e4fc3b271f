"""A checkpoint must fit the model: say what does not, briefly, or refuse.

One implementation for the engine's :class:`StrictCheckpointHook`
(``load_from``, ``--checkpoint``, ``--resume``) and the inference commands
(:func:`load_checkpoint_strictly`). Files are read by mmengine's loader,
which the plugin's compat fix 2 runs with ``weights_only=True`` and an
allowlist.
"""
from __future__ import annotations
from typing import Dict, List, Mapping, Optional, Tuple

import torch
import torch.nn as nn

#: key -> (shape in the checkpoint or None, shape in the model or None)
Mismatches = Dict[str, Tuple[Optional[tuple], Optional[tuple]]]
#: Keys listed per kind of mismatch before the rest are only counted.
SHOWN_PER_KIND = 5
#: The buffer a causal CMEM or adaptive shift keeps in its weights (OURS).
CAUSAL_MARKER = 'causal_marker'


class CheckpointMismatchError(RuntimeError):
    """A checkpoint does not fit the model."""


def strip_module_prefix(key: str) -> str:
    """The key without the ``module.`` prefix of a DDP-wrapped model."""
    return key[len('module.'):] if key.startswith('module.') else key


def state_dict_mismatches(source: Mapping[str, torch.Tensor],
                          target: Mapping[str, torch.Tensor]) -> Mismatches:
    """Keys whose tensor is missing on one side or of another shape.

    A ``module.`` prefix (a checkpoint saved from a DDP wrapper) is ignored;
    BN ``num_batches_tracked`` counters, which old checkpoints lack, are not
    reported.

    Args:
        source: The checkpoint's state dict.
        target: The model's state dict.

    Returns:
        ``{key: (checkpoint shape or None, model shape or None)}``.
    """
    source = {strip_module_prefix(k): v for k, v in source.items()}
    differ: Mismatches = {}
    for key in sorted(set(source) | set(target)):
        if key.endswith('num_batches_tracked'):
            continue
        have = tuple(source[key].shape) if key in source else None
        want = tuple(target[key].shape) if key in target else None
        if have != want:
            differ[key] = (have, want)
    return differ


def _kinds(differ: Mismatches) -> Dict[str, List[str]]:
    kinds: Dict[str, List[str]] = {
        'missing in the checkpoint': [],
        'not in the model': [],
        'of another shape': []
    }
    for key, (have, want) in differ.items():
        if have is None:
            kinds['missing in the checkpoint'].append(f'{key} (model {want})')
        elif want is None:
            kinds['not in the model'].append(f'{key} (checkpoint {have})')
        else:
            kinds['of another shape'].append(
                f'{key}: checkpoint {have} vs model {want}')
    return kinds


def causal_hint(differ: Mismatches) -> Optional[str]:
    """Why the mismatch is one of causal vs offline modules, if it is.

    Returns:
        A sentence naming which side is causal, or None.
    """
    markers = [k for k in differ if k.endswith('.' + CAUSAL_MARKER)]
    if not markers:
        return None
    if all(differ[k][0] is None for k in markers):
        return ('the model has causal CMEM/AdaptiveShift modules (OURS, '
                'causal=True) but the checkpoint was trained with offline '
                'ones: train the causal recipe, or build the model offline')
    return ('the checkpoint was trained with causal CMEM/AdaptiveShift '
            'modules (causal=True) but the model is offline: use the causal '
            'recipe (configs/online/)')


def format_mismatches(differ: Mismatches,
                      shown_per_kind: int = SHOWN_PER_KIND) -> str:
    """A summary: a count per kind of mismatch and its first keys.

    Args:
        differ: From :func:`state_dict_mismatches`.
        shown_per_kind: Keys listed per kind. Defaults to
            :data:`SHOWN_PER_KIND`.

    Returns:
        Indented lines; the causal-vs-offline reading first when it
        applies.
    """
    lines = []
    hint = causal_hint(differ)
    if hint:
        lines.append(f'  {hint}')
    for kind, keys in _kinds(differ).items():
        if not keys:
            continue
        lines.append(f'  {len(keys)} tensor(s) {kind}:')
        lines.extend(f'    {key}' for key in keys[:shown_per_kind])
        if len(keys) > shown_per_kind:
            lines.append(f'    ... and {len(keys) - shown_per_kind} more')
    return '\n'.join(lines)


def load_checkpoint_strictly(model: nn.Module, checkpoint: str) -> None:
    """Loads ``checkpoint`` into ``model`` only if every tensor fits.

    Args:
        model: The recipe's model.
        checkpoint: The file (read with ``weights_only=True`` and the
            plugin's allowlist).

    Raises:
        CheckpointMismatchError: Counts the tensors that are missing,
            unexpected or of another shape, and names the first of each.
    """
    from mmengine.runner.checkpoint import _load_checkpoint
    loaded = _load_checkpoint(checkpoint, map_location='cpu')
    state = loaded.get('state_dict', loaded)
    differ = state_dict_mismatches(state, model.state_dict())
    if differ:
        raise CheckpointMismatchError(
            f'{checkpoint} does not fit the model of the recipe; '
            f'{len(differ)} tensor(s) differ:\n{format_mismatches(differ)}')
    state = {strip_module_prefix(k): v for k, v in state.items()}
    model.load_state_dict(state, strict=False)  # counters may be absent
