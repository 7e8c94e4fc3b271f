"""How far the temporal kernels of a checkpoint moved from the identity.

Reads the kernels of every temporal layer (:class:`AdaptiveShift`, weight
[C, 3]; :class:`TemporalConv1d`, weight [C, C, 3, 1, 1]) and prints two
numbers per layer, each over all its channels:

* ``off_centre``: ``||(K_prev, K_next)|| / ||K_cur||``, how much the layer
  mixes the neighbouring frames in (0 for the identity; 1/sqrt(3) for TSM's
  shift at ``shift_div=8``);
* ``asymmetry``: ``||K_prev - K_next|| / ||K_prev + K_next||``, whether the
  layer tells the previous frame from the next one (0 for a kernel that
  weighs both alike, which cannot see the order of two frames; 1 for TSM's
  shift, whose channels take either the previous or the next frame).

The evidence benchmark uses it to explain why the identity-initialised
(2+1)D stays at the order-blind ceiling (docs/evidence.md). Command::

    python -m benchmarks.studies.temporal_kernels CKPT [CKPT ...]
"""
from __future__ import annotations
import argparse
import math
from typing import Dict, Optional, Sequence

import torch

from img_mmaction.compat.checkpoints import safe_torch_load


def kernel_taps(weight: torch.Tensor) -> torch.Tensor:
    """The three taps of a temporal kernel.

    Args:
        weight: An :class:`AdaptiveShift` kernel [C, 3] or a
            :class:`TemporalConv1d` weight [C_out, C_in, 3, 1, 1].

    Returns:
        [3, M]: the weights of frames t-1, t and t+1, flattened.

    Raises:
        ValueError: ``weight`` has another shape.
    """
    if weight.dim() == 2 and weight.shape[1] == 3:
        return weight.t().float()  # [C, 3] -> [3, C]
    if weight.dim() == 5 and weight.shape[2:] == (3, 1, 1):
        # [C_out, C_in, 3, 1, 1] -> [3, C_out * C_in]
        return weight[..., 0, 0].permute(2, 0, 1).reshape(3, -1).float()
    raise ValueError('kernel_taps: expected a [C, 3] or [C, C, 3, 1, 1] '
                     f'temporal kernel, got {tuple(weight.shape)}')


def kernel_stats(weight: torch.Tensor) -> Dict[str, float]:
    """``off_centre`` and ``asymmetry`` of one kernel (module docstring).

    ``asymmetry`` is NaN when both neighbour taps are zero.
    """
    previous, current, following = kernel_taps(weight)
    centre = current.norm().item()
    neighbours = torch.cat([previous, following]).norm().item()
    total = (previous + following).norm().item()
    return dict(
        off_centre=neighbours / centre if centre else math.inf,
        asymmetry=(previous - following).norm().item() /
        total if total else math.nan)


def temporal_kernels(state_dict: Dict[str, torch.Tensor]
                     ) -> Dict[str, Dict[str, float]]:
    """The statistics of every temporal kernel of a state dict.

    A temporal kernel is a ``weight`` under a module path holding
    ``temporal`` (where ``temporal_cfg`` builds the layer) with one of the
    shapes :func:`kernel_taps` reads.

    Returns:
        ``{parameter name: kernel_stats(...)}``, in the state dict's order.
    """
    stats = {}
    for name, weight in state_dict.items():
        if '.temporal' not in name or not name.endswith('weight'):
            continue
        if (weight.dim() == 2 and weight.shape[1]
                == 3) or (weight.dim() == 5 and weight.shape[2:] == (3, 1, 1)):
            stats[name] = kernel_stats(weight)
    return stats


def summarise(stats: Dict[str, Dict[str, float]]) -> str:
    """One line: mean, min and max of each statistic over the layers."""
    parts = [f'{len(stats)} temporal layers']
    for key in ('off_centre', 'asymmetry'):
        values = [s[key] for s in stats.values() if math.isfinite(s[key])]
        if values:
            parts.append(f'{key} {sum(values) / len(values):.3f} '
                         f'[{min(values):.3f}, {max(values):.3f}]')
        else:
            parts.append(f'{key} n/a')
    return ', '.join(parts)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Prints the statistics of each checkpoint named."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoints', nargs='+')
    parser.add_argument(
        '--layers', action='store_true', help='print every layer too')
    args = parser.parse_args(argv)
    for path in args.checkpoints:
        checkpoint = safe_torch_load(path)
        state_dict = checkpoint.get('state_dict', checkpoint)
        stats = temporal_kernels(state_dict)
        if not stats:
            raise SystemExit(f'{path}: no temporal kernel ([C, 3] or '
                             '[C, C, 3, 1, 1] weight under a ".temporal" '
                             'module) in this checkpoint')
        print(f'{path}: {summarise(stats)}')
        if args.layers:
            for name, values in stats.items():
                print(f'  {name}: off_centre {values["off_centre"]:.3f}, '
                      f'asymmetry {values["asymmetry"]:.3f}')


if __name__ == '__main__':
    main()
