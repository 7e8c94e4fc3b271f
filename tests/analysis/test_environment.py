"""analysis.environment: one description of the machine for every record."""
import importlib.metadata
import mmap
import os
import platform

import pytest
import torch

from img_mmaction.analysis import environment


def test_machine_line_names_processor_cores_and_os() -> None:
    line = environment.machine()
    assert f'{os.cpu_count()} CPU cores' in line
    assert platform.system() in line


def test_package_versions_or_none() -> None:
    versions = environment.package_versions(['torch', 'no-such-package'])
    assert versions == {
        'torch': importlib.metadata.version('torch'),
        'no-such-package': None
    }


def test_torch_environment_on_the_cpu() -> None:
    env = environment.torch_environment(torch.device('cpu'))
    assert env['torch'] == torch.__version__
    assert env['device'] == 'cpu' and env['gpu'] is None
    assert env['cudnn'] is None and env['cpu_count'] == os.cpu_count()


def test_allocator_names_the_variables_that_are_set(monkeypatch) -> None:
    for name in environment.ALLOCATOR_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert environment.allocator() == {}
    tunables = 'glibc.malloc.trim_threshold=4294967295'
    monkeypatch.setenv('GLIBC_TUNABLES', tunables)
    assert environment.allocator() == {'GLIBC_TUNABLES': tunables}
    assert environment.torch_environment(torch.device('cpu'))['allocator'] == {
        'GLIBC_TUNABLES': tunables
    }


def test_minor_faults_count_the_pages_first_touched() -> None:
    pages = 512
    before = environment.minor_faults()
    with mmap.mmap(-1, pages * mmap.PAGESIZE) as fresh:  # not yet mapped in
        for page in range(pages):
            fresh[page * mmap.PAGESIZE] = 1
        after = environment.minor_faults()
    assert after > before


def _resident_kib() -> int:
    with open('/proc/self/status') as status:
        return next(
            int(line.split()[1]) for line in status
            if line.startswith('VmRSS:'))


@pytest.mark.skipif(
    not os.path.exists('/proc/self/status'), reason='needs /proc')
def test_release_free_memory_returns_freed_heap_to_the_system() -> None:
    """Freed blocks below a live one stay resident until trimmed."""
    blocks = [bytearray(4096) for _ in range(40_000)]  # 160 MiB of heap
    pin = bytearray(4096)  # above them: the heap cannot shrink from its top
    del blocks
    freed = _resident_kib()
    assert environment.release_free_memory()
    assert freed - _resident_kib() > 100 * 1024
    del pin
