"""Memory measurements: page faults, and returning freed heap to the system.
"""
from __future__ import annotations
from typing import Optional


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
