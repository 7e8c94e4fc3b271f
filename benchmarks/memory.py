"""Memory measurements: page faults, and returning freed heap to the system.
"""
from __future__ import annotations
from typing import Callable, Dict, Optional


def minor_faults() -> Optional[int]:
    """Minor page faults of this process so far; None off Unix.

    A page fault is the system mapping a page at its first touch: the
    difference around a computation counts the pages of memory it took
    from the system afresh.
    """
    try:
        import resource
    except ImportError:  # not on Unix
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def release_free_memory() -> bool:
    """Gives the memory the allocator holds free back to the system.

    glibc's ``malloc_trim(0)``: after a computation whose memory was freed,
    the resident size again counts only what is in use, so that a later
    peak measures what the next computation takes.

    Returns:
        Whether glibc's ``malloc_trim`` ran (False elsewhere).
    """
    import ctypes
    import ctypes.util
    name = ctypes.util.find_library('c')
    try:
        libc = ctypes.CDLL(name)
        trim = libc.malloc_trim
    except (OSError, AttributeError, TypeError):  # not glibc
        return False
    trim(0)
    return True


def rss_kib(field: str) -> int:
    """``VmRSS`` or ``VmHWM`` of this process, in KiB (Linux)."""
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise RuntimeError(f'{field} not in /proc/self/status')


def peak_extra_memory(run: Callable[[], None]) -> Dict[str, float]:
    """Resident memory before ``run`` and its peak while it runs (Linux).

    Call it in a fresh process, after :func:`release_free_memory`: memory
    freed earlier would be reused by ``run`` and hide its needs.

    Returns:
        ``rss_built_mib`` (before), ``peak_mib`` (VmHWM while running) and
        ``extra_mib`` (their difference).
    """
    built = rss_kib('VmRSS')
    with open('/proc/self/clear_refs', 'w') as refs:
        refs.write('5')  # resets VmHWM to the current VmRSS
    run()
    peak = rss_kib('VmHWM')
    return dict(
        rss_built_mib=built / 1024,
        peak_mib=peak / 1024,
        extra_mib=(peak - built) / 1024)
