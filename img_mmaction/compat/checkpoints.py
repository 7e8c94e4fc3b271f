"""Fix 2: checkpoints load with ``weights_only=True`` and an allowlist.

mmengine 0.10.7 calls ``torch.load`` without ``weights_only``
(open-mmlab/mmengine#1655). Under torch >= 2.6, which defaults to
``weights_only=True``, every checkpoint mmengine saves is refused
(``Unsupported global: ... HistoryBuffer``), so ``mim test``, ``--resume``
and ``load_from`` fail; under an older torch the same call would unpickle
anything, i.e. run code from a downloaded file. We keep
``weights_only=True`` and allowlist exactly the globals mmengine checkpoints
contain (``HistoryBuffer``, numpy arrays, dtypes and scalars, and a
``getattr`` restricted to public attributes of ``HistoryBuffer``); a
checkpoint that asks for anything else is refused with
:class:`UntrustedCheckpointError`, naming the file, and nothing in it runs.
"""
from __future__ import annotations
import inspect
import os
import pickle
from typing import Any

import numpy as np
import torch

from ._originals import ORIGINALS

UPSTREAM = 'open-mmlab/mmengine#1655'


class UntrustedCheckpointError(RuntimeError):
    """A checkpoint asked to run code that the allowlist does not permit."""


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` restricted to public attributes of ``HistoryBuffer``.

    mmengine pickles the statistics methods of its log buffers as
    ``getattr(HistoryBuffer, 'min')``, so ``builtins.getattr`` must be
    callable during unpickling. This stand-in is registered under that name
    and refuses anything but a public attribute of ``HistoryBuffer``: a
    crafted ``getattr(os, 'system')`` is refused.
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    if obj is not HistoryBuffer or not isinstance(name, str) \
            or name.startswith('_'):
        raise pickle.UnpicklingError(
            f'getattr({obj!r}, {name!r}) is not allowed in a checkpoint: '
            'only public attributes of mmengine HistoryBuffer are.')
    return getattr(obj, name)


def checkpoint_safe_globals() -> list:
    """Returns the explicit allowlist for mmengine checkpoints.

    Exactly the globals that checkpoints saved by mmengine (with numpy 1 or
    numpy 2) contain beyond torch's own defaults.
    """
    from mmengine.logging.history_buffer import HistoryBuffer

    allowed: list = [
        HistoryBuffer,
        np.ndarray,
        np.dtype,
        (_history_buffer_getattr, 'builtins.getattr'),
    ]
    # numpy 2 pickles dtypes as numpy.dtypes.Float64DType etc.
    dtypes_module = getattr(np, 'dtypes', None)
    if dtypes_module is not None:
        for name in dir(dtypes_module):
            obj = getattr(dtypes_module, name)
            if isinstance(obj, type) and name.endswith('DType'):
                allowed.append(obj)
    # scalar / _reconstruct under both numpy 2 and numpy 1 module paths.
    multiarray = np.core.multiarray if not hasattr(np, '_core') \
        else np._core.multiarray
    for path in ('numpy._core.multiarray', 'numpy.core.multiarray'):
        allowed.append((multiarray.scalar, f'{path}.scalar'))
        allowed.append((multiarray._reconstruct, f'{path}._reconstruct'))
    return allowed


def safe_torch_load(filename: str, map_location: Any = 'cpu') -> Any:
    """Loads a checkpoint with ``weights_only=True`` and a clear refusal.

    Args:
        filename: Path of the checkpoint file.
        map_location: Passed to :func:`torch.load`. Defaults to ``'cpu'``.

    Returns:
        The unpickled checkpoint.

    Raises:
        UntrustedCheckpointError: The file needs a global outside the
            allowlist (for example one crafted to run code on load). Nothing
            from the file ran.
    """
    try:
        return torch.load(
            filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise UntrustedCheckpointError(
            f'Refused to load checkpoint {filename!r}: it contains objects '
            'outside img_mmaction\'s allowlist of safe globals, so it could '
            'run code when unpickled. Nothing from it was executed. '
            f'Details: {err}') from None


def _load_from_local(filename: str, map_location: Any) -> Any:
    """mmengine local-file checkpoint loader, with ``weights_only=True``."""
    filename = os.path.expanduser(filename)
    if not os.path.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return safe_torch_load(filename, map_location=map_location)


def needed() -> bool:
    """mmengine's local loader does not itself pass ``weights_only=True``."""
    from mmengine.runner import checkpoint
    source = inspect.getsource(checkpoint.load_from_local)
    return 'weights_only=True' not in source.replace(' ', '')


def install() -> None:
    """Registers the allowlist and the safe local loader with mmengine."""
    from mmengine.runner.checkpoint import CheckpointLoader

    torch.serialization.add_safe_globals(checkpoint_safe_globals())
    if 'load_from_local' not in ORIGINALS:
        ORIGINALS['load_from_local'] = CheckpointLoader._schemes['']
    CheckpointLoader.register_scheme(
        prefixes='', loader=_load_from_local, force=True)
