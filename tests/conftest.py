"""Shared test set-up: the plugin's fixes, and MMAction2's default scope.

Also :func:`full_float32`, for the CUDA tests (``tests/models/test_cuda.py``
and ``tests/engine/test_cuda_training.py`` use it on every test).
"""
from typing import Iterator

import pytest
import torch
from mmaction.utils import register_all_modules

import img_mmaction  # noqa: F401  (compat fixes + registration)

register_all_modules(init_default_scope=True)


@pytest.fixture
def full_float32() -> Iterator[None]:
    """TF32 off: cuDNN convolutions and matmuls round as on the CPU."""
    saved = (torch.backends.cudnn.allow_tf32,
             torch.backends.cuda.matmul.allow_tf32)
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    yield
    (torch.backends.cudnn.allow_tf32,
     torch.backends.cuda.matmul.allow_tf32) = saved
