"""The training policy of TSM and TEA, for models with IMG's modules."""
from __future__ import annotations
import inspect
from collections import OrderedDict
from typing import Dict, List, Optional, Union

import torch.nn as nn
from mmaction.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIMIZERS
from mmengine.logging import print_log
from mmengine.optim import DefaultOptimWrapperConstructor
from mmengine.utils.dl_utils.parrots_wrapper import _BatchNorm, _ConvNd

from img_mmaction.models.checks import check_keys
from img_mmaction.models.cmem import CMEM
from img_mmaction.models.temporal import AdaptiveShift

#: (lr multiplier, weight-decay multiplier) of each group of the policy.
POLICY: Dict[str, tuple] = OrderedDict(
    first_conv_weight=(1, 1),  # TSM: the first conv is its own group
    first_conv_bias=(2, 0),
    normal_weight=(1, 1),  # conv and linear weights
    normal_bias=(2, 0),  # every other bias
    bn=(1, 0),  # BN / GN affine parameters
    fc_weight=(5, 1),  # the new classifier (fc_lr5)
    fc_bias=(10, 0),
    shift_weight=(1, 1),  # AdaptiveShift kernels (TEA: a conv weight)
    cmem_weight=(1, 1),  # CMEM's three convolutions
    cmem_bias=(2, 0),
)
#: Groups whose multipliers ``paramwise_cfg`` may override, and their key.
CONFIGURABLE = {
    'shift': ('shift_weight', ),
    'cmem': ('cmem_weight', 'cmem_bias')
}


def policy_groups(model: nn.Module,
                  fc_lr5: bool = True) -> Dict[str, List[tuple]]:
    """Sorts every trainable parameter of ``model`` into a policy group.

    The rules of TSM's and TEA's ``get_optim_policies`` (and MMAction2's
    ``TSMOptimWrapperConstructor``), extended to IMG's modules:

    * the first convolution of the model: its own weight / bias groups;
    * other convolution and linear weights: ``normal_weight``; their biases:
      ``normal_bias``;
    * BN / GN / SyncBN affine parameters: ``bn``;
    * the last linear layer (the classifier) with ``fc_lr5``: ``fc_weight``
      and ``fc_bias``; else it counts as a normal linear layer;
    * :class:`AdaptiveShift` kernels: ``shift_weight``;
    * CMEM's convolutions: ``cmem_weight`` / ``cmem_bias``.

    Args:
        model: The model (unwrapped).
        fc_lr5: Put the classifier in the ``fc_*`` groups. Defaults to True.

    Returns:
        ``{group: [(name, parameter), ...]}``, every parameter with
        ``requires_grad`` in exactly one group, plus ``'frozen'`` for those
        without it (they are not optimised).

    Raises:
        ValueError: A module with parameters of its own is of a type no rule
            covers (the message names it), or no linear layer exists while
            ``fc_lr5`` is on.
    """
    groups: Dict[str, List[tuple]] = {name: [] for name in POLICY}
    groups['frozen'] = []
    cmem_modules = {
        id(m)
        for cmem in model.modules() if isinstance(cmem, CMEM)
        for m in cmem.modules()
    }
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if fc_lr5 and not linears:
        raise ValueError('fc_lr5=True but the model has no linear '
                         'classifier; set paramwise_cfg=dict(fc_lr5=False)')
    classifier = linears[-1] if fc_lr5 else None
    first_conv = True
    for module_name, module in model.named_modules():
        own = list(module.named_parameters(recurse=False))
        if not own:
            continue
        if isinstance(module, _ConvNd) and id(module) in cmem_modules:
            kind = 'cmem'
        elif isinstance(module, _ConvNd) and first_conv:
            kind, first_conv = 'first_conv', False
        elif module is classifier:
            kind = 'fc'
        elif isinstance(module, (_ConvNd, nn.Linear)):
            kind = 'normal'
        elif isinstance(module, (_BatchNorm, nn.GroupNorm, nn.LayerNorm)):
            kind = 'bn'
        elif isinstance(module, AdaptiveShift):
            kind = 'shift'
        else:
            raise ValueError(
                f'{module_name} ({type(module).__name__}) has parameters '
                f'{[n for n, _ in own]} that no rule of the TSM/TEA policy '
                'covers; give it a rule in IMGOptimWrapperConstructor')
        for param_name, param in own:
            full_name = f'{module_name}.{param_name}' if module_name else \
                param_name
            if not param.requires_grad:
                groups['frozen'].append((full_name, param))
            elif kind == 'bn':
                groups['bn'].append((full_name, param))
            else:
                suffix = 'bias' if param_name == 'bias' else 'weight'
                groups[f'{kind}_{suffix}'].append((full_name, param))
    return groups


def default_weight_decay(optimizer_type: Union[str, type]) -> float:
    """The ``weight_decay`` an optimizer takes when none is given.

    Args:
        optimizer_type: A registered optimizer's name or class.

    Returns:
        The default of its ``weight_decay`` argument; 0 when it has none.
    """
    optimizer = (
        OPTIMIZERS.get(optimizer_type)
        if isinstance(optimizer_type, str) else optimizer_type)
    parameter = inspect.signature(optimizer).parameters.get('weight_decay')
    if parameter is None or parameter.default is inspect.Parameter.empty:
        return 0.0
    return float(parameter.default)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class IMGOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """Parameter groups of the TSM/TEA training policy, IMG's modules too.

    The paper trains "similar to TSM, STM, TEA"; their code (and MMAction2's
    ``TSMOptimWrapperConstructor`` with ``fc_lr5=True``, which every stock
    TSM/TANet recipe uses) give conv and linear weights the base lr and
    weight decay, BN parameters no weight decay, biases 2x lr and no weight
    decay, and the new classifier 5x lr (weight) and 10x lr (bias). This
    constructor applies that policy (:data:`POLICY`, :func:`policy_groups`)
    and gives the adaptive shift kernels and CMEM explicit groups whose
    multipliers ``paramwise_cfg`` can set. It logs each group's size, lr
    and weight decay.

    ``paramwise_cfg`` keys:

    * ``fc_lr5`` (bool, default True): the classifier at 5x / 10x lr; off
      when fine-tuning on the label set the model was trained on;
    * ``shift`` (dict with ``lr_mult``, ``decay_mult``; default 1 and 1, as
      TEA's shift convolution): the AdaptiveShift kernels;
    * ``cmem`` (dict with ``lr_mult``, ``decay_mult``; default 1 and 1):
      multiplies the policy of CMEM's weights (1, 1) and bias (2, 0).

    Parameters without ``requires_grad`` (frozen stages, partial BN) are in
    no group: they are not optimised, as in TSM. The runner builds the
    optimizer before its first ``model.train()``, which is where backbones
    freeze them, so the constructor applies the model's train mode first.

    Without ``weight_decay`` in the optimizer config, the optimizer's own
    default (e.g. AdamW's 0.01, SGD's 0) is the base that the policy
    multiplies: BN and biases still get none.
    """

    def __init__(self,
                 optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None) -> None:
        paramwise_cfg = check_keys(paramwise_cfg, ('fc_lr5', 'shift', 'cmem'),
                                   'IMGOptimWrapperConstructor paramwise_cfg')
        self.fc_lr5 = bool(paramwise_cfg.get('fc_lr5', True))
        self.multipliers = dict(POLICY)
        for key, group_names in CONFIGURABLE.items():
            extra = check_keys(
                paramwise_cfg.get(key), ('lr_mult', 'decay_mult'),
                f'paramwise_cfg.{key}')
            for name in group_names:
                lr_mult, decay_mult = self.multipliers[name]
                self.multipliers[name] = (lr_mult * extra.get('lr_mult', 1.0),
                                          decay_mult *
                                          extra.get('decay_mult', 1.0))
        # mmengine's own paramwise options (custom_keys, norm_decay_mult...)
        # would apply a second policy on top: none is passed on. A non-empty
        # paramwise_cfg is what makes mmengine call add_params at all.
        super().__init__(
            optim_wrapper_cfg, paramwise_cfg=dict(img_tsm_policy=True))

    def add_params(self, params: List[dict], module: nn.Module,
                   **kwargs) -> None:
        """Appends one param group per non-empty policy group.

        Args:
            params: The list of param groups to extend.
            module: The model.
        """
        # Frozen stages and partial BN set requires_grad=False in train():
        # apply them (in the model's current mode) before grouping.
        module.train(module.training)
        groups = policy_groups(module, self.fc_lr5)
        base_wd = self.base_wd
        if base_wd is None:
            base_wd = default_weight_decay(self.optimizer_cfg['type'])
        lines = []
        for name, (lr_mult, decay_mult) in self.multipliers.items():
            members = groups[name]
            if not members:
                continue
            lr = self.base_lr * lr_mult
            weight_decay = base_wd * decay_mult
            params.append(
                dict(
                    params=[p for _, p in members],
                    lr=lr,
                    weight_decay=weight_decay,
                    name=name))
            lines.append(f'  {name}: {len(members)} tensors, lr {lr:g}, '
                         f'weight decay {weight_decay:g}')
        if groups['frozen']:
            lines.append(f'  frozen (not optimised): '
                         f'{len(groups["frozen"])} tensors')
        print_log(
            'IMGOptimWrapperConstructor (TSM/TEA policy, fc_lr5='
            f'{self.fc_lr5}):\n' + '\n'.join(lines),
            logger='current')
