"""Fix 7: MMAction2's ``TSMOptimWrapperConstructor`` refuses new modules.

The constructor that every stock TSM/TANet recipe uses sorts parameters by
module type and raises ``ValueError: New atomic module type: <class
'...AdaptiveShift'>. Need to give it a learning policy`` for any leaf module
with parameters it has no rule for. So a stock recipe with an IMG backbone
cannot even start. The same name is registered again as a subclass that
gives the adaptive shift kernels the rule TEA's code gives its shift
convolution (a conv weight: ``normal_weight``); on models without them it
produces the stock groups, tensor for tensor (tested). For the full policy
with explicit shift and CMEM groups, use ``IMGOptimWrapperConstructor``.

This module imports MMAction2 and the models: :mod:`img_mmaction.compat`
imports it only after fix 1 made ``mmaction.models`` importable.
"""
from __future__ import annotations
from typing import Iterator, List

import torch.nn as nn
from mmaction.engine.optimizers import \
    TSMOptimWrapperConstructor as _StockTSMOptimWrapperConstructor

from img_mmaction.models.temporal import AdaptiveShift
from ._originals import ORIGINALS

UPSTREAM = 'mmaction2 engine/optimizers/tsm_optim_wrapper_constructor.py'
#: Index of the ``normal_weight`` group in the stock constructor's output.
_NORMAL_WEIGHT = 2
_STOCK_GROUPS = 7


class _WithoutShifts:
    """A view of a model whose ``modules()`` skips AdaptiveShift layers."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model

    def modules(self) -> Iterator[nn.Module]:
        """The model's modules, AdaptiveShift layers left out."""
        return (m for m in self.model.modules()
                if not isinstance(m, AdaptiveShift))


class TSMOptimWrapperConstructor(_StockTSMOptimWrapperConstructor):
    """MMAction2's constructor, with the adaptive shift as a conv weight.

    The stock loop runs on a view of the model without the shift layers;
    their kernels then join the ``normal_weight`` group (base lr, weight
    decay), where TEA puts its shift convolution.
    """

    def add_params(self, params: List[dict], model: nn.Module,
                   **kwargs) -> None:
        """Stock groups, plus the shift kernels in ``normal_weight``."""
        super().add_params(params, _WithoutShifts(model), **kwargs)
        if len(params) != _STOCK_GROUPS:
            raise RuntimeError(
                f'MMAction2\'s TSMOptimWrapperConstructor made {len(params)} '
                f'groups, not {_STOCK_GROUPS}: compat fix 7 does not know '
                'this MMAction2 version; set IMG_MMACTION_COMPAT=0 and use '
                'IMGOptimWrapperConstructor')
        params[_NORMAL_WEIGHT]['params'].extend(
            m.weight for m in model.modules()
            if isinstance(m, AdaptiveShift) and m.weight.requires_grad)


def needed() -> bool:
    """The stock constructor refuses a model with an adaptive shift."""
    model = nn.Sequential(
        nn.Conv2d(3, 8, 1), AdaptiveShift(8, 1), nn.Linear(8, 2))
    constructor = _StockTSMOptimWrapperConstructor(
        dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1)),
        dict(fc_lr5=True))
    try:
        constructor.add_params([], model)
    except ValueError as err:
        return 'New atomic module type' in str(err)
    return False


def install() -> None:
    """Registers the subclass under the stock name, in the same registry."""
    from mmaction.registry import OPTIM_WRAPPER_CONSTRUCTORS
    current = OPTIM_WRAPPER_CONSTRUCTORS.get('TSMOptimWrapperConstructor')
    if current is TSMOptimWrapperConstructor:
        return
    ORIGINALS['TSMOptimWrapperConstructor'] = current
    OPTIM_WRAPPER_CONSTRUCTORS.register_module(
        name='TSMOptimWrapperConstructor',
        module=TSMOptimWrapperConstructor,
        force=True)
