"""The device of the CUDA tests, and a process group of one process.

The CUDA tests (pytest marker ``cuda``) skip without a GPU. With
``IMG_CUDA_DRY_RUN=1`` they run their own code on the CPU instead: CPU
against CPU, CPU autocast, gloo for NCCL. That checks the tests themselves
on a machine without a GPU and says nothing about CUDA (docs/gpu.md).
"""
from __future__ import annotations
import contextlib
import os
import socket
from typing import Iterator

import torch
import torch.distributed as dist

#: Environment variable that runs the CUDA tests' code on the CPU.
DRY_RUN_ENV = 'IMG_CUDA_DRY_RUN'
#: Environment of ``init_process_group``'s ``env://`` rendezvous.
RENDEZVOUS_KEYS = ('MASTER_ADDR', 'MASTER_PORT', 'RANK', 'WORLD_SIZE',
                   'LOCAL_RANK')


def dry_run() -> bool:
    """Whether ``IMG_CUDA_DRY_RUN=1`` asks for the CPU dry run.

    Returns:
        True when the variable is ``'1'``.

    Raises:
        ValueError: The variable is set to anything but ``'0'`` or ``'1'``.
    """
    value = os.environ.get(DRY_RUN_ENV, '0')
    if value not in ('0', '1'):
        raise ValueError(f'{DRY_RUN_ENV} must be 0 or 1, got {value!r}')
    return value == '1'


def cuda_tests_can_run() -> bool:
    """Whether the CUDA tests run: a GPU is there, or a dry run is asked.

    Returns:
        True when they should run.
    """
    return dry_run() or torch.cuda.is_available()


def cuda_test_device() -> torch.device:
    """The device the CUDA tests compare against the CPU.

    Returns:
        ``cpu`` in a dry run, else ``cuda`` (the current GPU).
    """
    return torch.device('cpu' if dry_run() else 'cuda')


def free_port() -> int:
    """A TCP port on 127.0.0.1 that no one listens on right now.

    Returns:
        The port number.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def single_process_group(backend: str) -> Iterator[None]:
    """A default process group of world size 1 in this process.

    Sets the ``env://`` variables (a free port on 127.0.0.1, rank 0 of 1),
    initialises the group, and on exit destroys it and restores the
    variables as they were.

    Args:
        backend: ``'nccl'`` (needs CUDA; uses GPU 0) or ``'gloo'``.

    Yields:
        Nothing; the group is the default one while inside.

    Raises:
        RuntimeError: A default process group already exists.
    """
    if dist.is_initialized():
        raise RuntimeError('single_process_group: a default process group '
                           'is already initialised in this process')
    saved = {key: os.environ.get(key) for key in RENDEZVOUS_KEYS}
    os.environ.update(
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(free_port()),
        RANK='0',
        WORLD_SIZE='1',
        LOCAL_RANK='0')
    try:
        if backend == 'nccl':
            torch.cuda.set_device(0)
        dist.init_process_group(backend, init_method='env://')
        try:
            yield
        finally:
            dist.destroy_process_group()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
