"""Loads ImageNet Res2Net-50 26w_4s weights into Res2NetIMG, strictly."""
from __future__ import annotations
import re
from typing import Dict, List, Optional

import torch.nn as nn
from mmengine.logging import MMLogger, print_log
from mmengine.runner.checkpoint import CheckpointLoader

#: Official Res2Net block keys that Res2NetIMG keeps under ``clim.``.
_CLIM_KEY = re.compile(r'^(layer\d+\.\d+\.)(convs|bns)\.')
#: Keys of the official checkpoint that a backbone does not use.
_CLASSIFIER_KEY = re.compile(r'^fc\.')
#: Modules that IMG adds to Res2Net; their parameters are new by design.
_NEW_KEY = re.compile(r'\.(cmem|temporal|input_temporal)\.')


class PretrainedMismatchError(RuntimeError):
    """The checkpoint does not fit the architecture beyond the IMG modules."""


def map_res2net_key(key: str) -> str:
    """Maps an official Res2Net key to Res2NetIMG's name for it.

    ``layer1.0.convs.0.weight`` -> ``layer1.0.clim.convs.0.weight``; other
    keys are unchanged (a ``module.`` prefix is dropped).
    """
    if key.startswith('module.'):
        key = key[len('module.'):]
    return _CLIM_KEY.sub(r'\1clim.\2.', key)


def load_res2net_imagenet(model: nn.Module,
                          filename: str,
                          logger: Optional[MMLogger] = None
                          ) -> Dict[str, List[str]]:
    """Loads an ImageNet Res2Net checkpoint into a Res2NetIMG backbone.

    The checkpoint is read with ``weights_only=True`` (mmengine's loader,
    see :mod:`img_mmaction.compat`). Every key must land on a parameter or
    buffer of the same shape, except the classifier (``fc.*``, unused); every
    parameter of the model must be loaded, except those of the modules IMG
    adds (CMEM and the temporal layers), which are reported as new, and
    BN ``num_batches_tracked`` counters that old checkpoints lack.

    Args:
        model: The backbone.
        filename: Checkpoint path (``res2net50_26w_4s-06e79181.pth``).
        logger: Where the report goes. Defaults to the current logger.

    Returns:
        ``{'new': [...], 'unused': [...]}`` key lists.

    Raises:
        PretrainedMismatchError: Any other missing key, unexpected key or
            shape mismatch; the message lists them.
    """
    checkpoint = CheckpointLoader.load_checkpoint(filename, map_location='cpu')
    if isinstance(checkpoint, dict) and 'state_dict' in checkpoint:
        checkpoint = checkpoint['state_dict']
    source = {map_res2net_key(k): v for k, v in checkpoint.items()}
    target = model.state_dict()

    unused = sorted(k for k in source if _CLASSIFIER_KEY.match(k))
    unexpected = sorted(k for k in source
                        if k not in target and k not in unused)
    shape_errors = sorted(
        f'{k}: checkpoint {tuple(v.shape)} vs model {tuple(target[k].shape)}'
        for k, v in source.items()
        if k in target and tuple(v.shape) != tuple(target[k].shape))
    not_loaded = [k for k in target if k not in source]
    new = sorted(k for k in not_loaded if _NEW_KEY.search(f'.{k}'))
    missing = sorted(
        k for k in not_loaded
        if k not in new and not k.endswith('num_batches_tracked'))
    if unexpected or shape_errors or missing:
        raise PretrainedMismatchError(
            f'{filename} does not fit {type(model).__name__}:\n'
            f'  missing in checkpoint: {missing}\n'
            f'  unexpected in checkpoint: {unexpected}\n'
            f'  shape mismatches: {shape_errors}')
    model.load_state_dict({
        k: v
        for k, v in source.items() if k in target
    },
                          strict=False)
    print_log(
        f'Loaded ImageNet Res2Net weights from {filename}: '
        f'{len(source) - len(unused)} tensors loaded; '
        f'{len(new)} new IMG tensors (CMEM / temporal) keep their init: '
        f'{new}; unused: {unused}',
        logger=logger or 'current')
    return {'new': new, 'unused': unused}
