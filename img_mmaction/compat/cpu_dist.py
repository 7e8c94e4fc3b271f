"""Fix 4: ``--launcher pytorch`` without CUDA.

mmengine's ``_init_dist_pytorch`` always calls ``torch.cuda.set_device``,
which fails on a CPU-only build (``module 'torch._C' has no attribute
'_cuda_setDevice'``), so multi-process training cannot run with the gloo
backend. The call is skipped when CUDA is not available.
"""
from __future__ import annotations
import inspect
from typing import Any, Callable

import torch

from ._originals import ORIGINALS

UPSTREAM = 'mmengine dist/utils.py _init_dist_pytorch'


def _init_dist_pytorch_cpu_aware(backend: str,
                                 init_backend: str = 'torch',
                                 **kwargs: Any) -> None:
    """``_init_dist_pytorch`` that skips ``cuda.set_device`` without CUDA."""
    original: Callable = ORIGINALS['_init_dist_pytorch']
    if torch.cuda.is_available():
        return original(backend, init_backend=init_backend, **kwargs)
    if backend == 'nccl':
        raise RuntimeError(
            'Distributed training without CUDA needs the gloo backend: set '
            "env_cfg = dict(dist_cfg=dict(backend='gloo')) in the config.")
    if init_backend != 'torch':
        raise ValueError(
            f'init_backend={init_backend!r} is not supported on CPU by '
            'img_mmaction; use "torch".')
    torch.distributed.init_process_group(backend=backend, **kwargs)


def needed() -> bool:
    """No CUDA here, and mmengine's init calls ``cuda.set_device`` anyway."""
    from mmengine.dist import utils as dist_utils
    original = ORIGINALS.get('_init_dist_pytorch',
                             dist_utils._init_dist_pytorch)
    return (not torch.cuda.is_available()
            and 'set_device' in inspect.getsource(original))


def install() -> None:
    """Routes mmengine's pytorch launcher through the CPU-aware init."""
    from mmengine.dist import utils as dist_utils
    if dist_utils._init_dist_pytorch is _init_dist_pytorch_cpu_aware:
        return
    ORIGINALS['_init_dist_pytorch'] = dist_utils._init_dist_pytorch
    dist_utils._init_dist_pytorch = _init_dist_pytorch_cpu_aware
