"""Fix 5: a job killed while saving must not leave a truncated checkpoint.

mmengine's ``LocalBackend.put`` (which ``save_checkpoint`` uses) writes the
target file in place: a job killed while saving leaves a truncated
checkpoint where the previous one was. Writes now go to a temporary file in
the same folder, are synced, and replace the target with ``os.replace``
(atomic on POSIX), so the file is always the old or the new checkpoint.
"""
from __future__ import annotations
import inspect
import os
import tempfile
from typing import Any

from ._originals import ORIGINALS

UPSTREAM = 'mmengine fileio/backends/local_backend.py LocalBackend.put'


def _atomic_put(self: Any, obj: bytes, filepath: Any) -> None:
    """``LocalBackend.put`` through a temporary file and ``os.replace``."""
    folder = os.path.dirname(os.path.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=folder, prefix=f'.{os.path.basename(filepath)}.', suffix='.tmp')
    try:
        with open(handle, 'wb') as stream:
            stream.write(obj)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, filepath)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def needed() -> bool:
    """mmengine's ``put`` writes in place (no rename into the target)."""
    from mmengine.fileio.backends.local_backend import LocalBackend
    original = ORIGINALS.get('LocalBackend.put', LocalBackend.put)
    source = inspect.getsource(original)
    return 'os.replace' not in source and 'os.rename' not in source


def install() -> None:
    """Replaces mmengine's ``LocalBackend.put`` with :func:`_atomic_put`."""
    from mmengine.fileio.backends.local_backend import LocalBackend
    if LocalBackend.put is _atomic_put:
        return
    ORIGINALS['LocalBackend.put'] = LocalBackend.put
    LocalBackend.put = _atomic_put
