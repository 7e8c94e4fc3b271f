"""benchmarks.memory: page faults and malloc_trim."""
import mmap
import os

import pytest

from benchmarks import memory


def test_minor_faults_count_the_pages_first_touched() -> None:
    pages = 512
    before = memory.minor_faults()
    with mmap.mmap(-1, pages * mmap.PAGESIZE) as fresh:  # not yet mapped in
        for page in range(pages):
            fresh[page * mmap.PAGESIZE] = 1
        after = memory.minor_faults()
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
    assert memory.release_free_memory()
    assert freed - _resident_kib() > 100 * 1024
    del pin


def test_peak_extra_memory_counts_what_the_run_touches() -> None:
    from benchmarks.memory import peak_extra_memory

    def run() -> None:
        block = bytearray(64 * 1024 * 1024)  # 64 MiB, zeroed: touched
        del block

    figures = peak_extra_memory(run)
    assert figures['extra_mib'] >= 60
    assert figures['peak_mib'] == pytest.approx(figures['rss_built_mib'] +
                                                figures['extra_mib'])
    assert peak_extra_memory(lambda: None)['extra_mib'] < 8
