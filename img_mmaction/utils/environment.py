"""What a run ran on: the machine, the versions and the allocator settings.

The demo, the benchmarks and the device check each write these next to
their figures; they take them from here.
"""
from __future__ import annotations
import importlib.metadata
import os
import platform
from typing import Dict, Optional, Sequence

import torch

#: Environment variables that change the C allocator behind torch's CPU
#: tensors, which changes CPU timings: glibc's malloc returns large freed
#: blocks to the system (its defaults), and a run that takes them again pays
#: a page fault per page (docs/performance.md).
ALLOCATOR_VARIABLES = ('GLIBC_TUNABLES', 'LD_PRELOAD', 'MALLOC_ARENA_MAX')
#: The distributions whose versions a record names by default.
PACKAGES = ('torch', 'mmengine', 'mmaction2', 'mmcv-lite', 'numpy', 'decord',
            'opencv-python', 'scikit-video', 'openmim')


def machine() -> str:
    """The processor (or architecture), cores and OS, on one line.

    Returns:
        E.g. ``'x86_64, 2 CPU cores, Linux 6.1.0'``.
    """
    return (f'{platform.processor() or platform.machine()}, '
            f'{os.cpu_count()} CPU cores, {platform.system()} '
            f'{platform.release()}')


def allocator() -> Dict[str, str]:
    """The allocator settings of this process, for its record.

    Returns:
        ``{name: value}`` for each of :data:`ALLOCATOR_VARIABLES` that is
        set; empty: the platform's defaults.
    """
    return {
        name: os.environ[name]
        for name in ALLOCATOR_VARIABLES if name in os.environ
    }


def package_versions(packages: Sequence[str] = PACKAGES
                     ) -> Dict[str, Optional[str]]:
    """The installed version of each distribution, None where absent.

    Args:
        packages: Distribution names. Defaults to :data:`PACKAGES`.

    Returns:
        ``{name: version or None}``.
    """
    versions: Dict[str, Optional[str]] = {}
    for package in packages:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def torch_environment(device: Optional[torch.device] = None) -> dict:
    """Python, torch, CUDA and cuDNN versions and the device measured.

    Args:
        device: The device measured; None for the first GPU when there is
            one, else the CPU.

    Returns:
        ``python``, ``torch``, ``cuda`` (torch's build), ``cudnn`` (None
        off the GPU), ``device`` (the GPU's name or ``'cpu'``), ``gpu``
        (name, memory, capability, count; None off the GPU), ``cpu_count``,
        ``machine`` (the architecture), ``processor`` (or None) and
        ``allocator`` (:func:`allocator`).
    """
    if device is None:
        device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    on_cuda = device.type == 'cuda'
    gpu = None
    if on_cuda:
        props = torch.cuda.get_device_properties(device)
        gpu = dict(
            name=props.name,
            memory_gib=round(props.total_memory / 2**30, 1),
            capability=f'{props.major}.{props.minor}',
            count=torch.cuda.device_count())
    return dict(
        python=platform.python_version(),
        torch=torch.__version__,
        cuda=torch.version.cuda,
        cudnn=str(torch.backends.cudnn.version()) if on_cuda else None,
        device=gpu['name'] if gpu else 'cpu',
        gpu=gpu,
        cpu_count=os.cpu_count(),
        machine=platform.machine(),
        processor=platform.processor() or None,
        allocator=allocator())
