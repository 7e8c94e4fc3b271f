"""Workarounds for upstream defects of the pinned stack, in one place.

Every fix here is applied by :func:`apply_all`, which ``import img_mmaction``
calls. Configs load the plugin through ``custom_imports``, which
``Config.fromfile`` processes before the registries import
``mmaction.models``; so the fixes are in place before anything needs them.

Each fix names the upstream defect it works around, is idempotent, and keeps
the original object in :data:`ORIGINALS` so that tests can show the defect is
real (the original fails) and the fix is active (the patched one works).

Fixes:

1. ``mmaction.models.localizers.drn`` is missing from the mmaction2 1.2.0
   wheel (open-mmlab/mmaction2#2714): ``import mmaction.models`` fails.
   A fallback finder at the *end* of ``sys.meta_path`` serves a placeholder
   only when the real import fails, so a fixed wheel is never shadowed.
2. mmengine 0.10.7 calls ``torch.load`` without ``weights_only``; torch >= 2.6
   defaults to ``weights_only=True`` and refuses every checkpoint mmengine
   saves (open-mmlab/mmengine#1655). We keep ``weights_only=True`` and add an
   explicit allowlist of exactly the globals those checkpoints need, and we
   replace mmengine's local-file loader by one that passes
   ``weights_only=True`` explicitly and names the file when it refuses one.
3. numpy 2 (NEP 50) makes mmaction's ``ColorJitter.adjust_hue`` raise
   ``OverflowError: Python integer -14 out of bounds for uint8`` for a
   negative hue offset (same defect as pytorch/vision#8536). The hue shift is
   computed in int16, which gives exactly numpy 1.26's result.
4. mmengine's ``_init_dist_pytorch`` always calls ``torch.cuda.set_device``,
   which fails on a CPU-only build, so ``--launcher pytorch`` cannot run with
   the gloo backend. The call is skipped when CUDA is not available.
5. mmengine's ``LocalBackend.put`` (which ``save_checkpoint`` uses) writes
   the target file in place: a job killed while saving leaves a truncated
   checkpoint where the previous one was. It now writes a temporary file in
   the same folder, syncs it, and renames it over the target (atomic on
   POSIX), so the file is always the old or the new checkpoint.
6. mmengine's Runner never calls ``torch.distributed.destroy_process_group``,
   so the process group is still alive when the interpreter finalizes. A gloo
   worker thread that then drops its last reference to a tensor takes the GIL
   during finalization, and the process dies with ``terminate called without
   an active exception`` (SIGABRT) after its work is done
   (pytorch/pytorch#190489; the upstream atexit fix, pytorch/pytorch#179291,
   was abandoned). ``torchrun`` then reports the job failed. An ``atexit``
   handler destroys the default group while the interpreter is still alive;
   it does nothing when no group exists or one was already destroyed.
   Destroying it only drops torch's own references: the runner's
   ``MMDistributedDataParallel`` wrapper still holds the group (its reducer
   keeps a C++ reference), and the runner lives on in reference cycles until
   the last garbage collection of finalization, so the gloo threads ran on
   and one of them aborted the process there, releasing the tensors of the
   last broadcast. The handler therefore also runs ``gc.collect()``, which
   frees the wrapper and so joins the group's threads while they can still
   take the GIL.
"""
from __future__ import annotations

import atexit
import gc
import importlib.abc
import importlib.machinery
import importlib.util
import os
import pickle
import sys
import types
from typing import Any, Callable, Dict, Optional, Sequence

import numpy as np
import torch

#: Original upstream objects replaced by the fixes, by a short name.
ORIGINALS: Dict[str, Any] = {}

# mmaction/models/localizers/__init__.py does ``from .drn.drn import DRN``.
_DRN_PACKAGE = 'mmaction.models.localizers.drn'
_DRN_MODULES = (_DRN_PACKAGE, _DRN_PACKAGE + '.drn')


# --------------------------------------------------------------------------
# 1. Missing mmaction.models.localizers.drn (open-mmlab/mmaction2#2714)
# --------------------------------------------------------------------------
class _MissingDRN:
    """Stand-in for the ``DRN`` localizer absent from the mmaction2 wheel."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise ImportError(
            'mmaction.models.localizers.drn is missing from the installed '
            'mmaction2 wheel (open-mmlab/mmaction2#2714); img_mmaction '
            'provides a placeholder so that recognizers build, but DRN '
            'itself cannot be used. Install mmaction2 from source to use it.')


class _DRNPlaceholderLoader(importlib.abc.Loader):
    """Creates the placeholder package for the missing DRN localizer."""

    def create_module(self, spec: importlib.machinery.ModuleSpec
                      ) -> Optional[types.ModuleType]:
        return None  # default module creation

    def exec_module(self, module: types.ModuleType) -> None:
        if module.__name__ == _DRN_PACKAGE:
            module.__path__ = []  # a package, so ``.drn.drn`` resolves
        module.DRN = _MissingDRN
        module.__all__ = ['DRN']
        module.IMG_MMACTION_PLACEHOLDER = True


class DRNFallbackFinder(importlib.abc.MetaPathFinder):
    """Serves a placeholder for ``mmaction.models.localizers.drn(.drn)``.

    It sits at the end of ``sys.meta_path``, so it is asked only after every
    real finder failed to find the module: an mmaction2 install that ships
    ``drn`` is never shadowed.
    """

    def find_spec(self, fullname: str, path: Optional[Sequence[str]],
                  target: Optional[types.ModuleType] = None
                  ) -> Optional[importlib.machinery.ModuleSpec]:
        if fullname not in _DRN_MODULES:
            return None
        return importlib.machinery.ModuleSpec(
            fullname, _DRNPlaceholderLoader(),
            is_package=fullname == _DRN_PACKAGE)


def install_drn_fallback() -> None:
    """Appends :class:`DRNFallbackFinder` to ``sys.meta_path`` once."""
    if not any(isinstance(f, DRNFallbackFinder) for f in sys.meta_path):
        sys.meta_path.append(DRNFallbackFinder())


# --------------------------------------------------------------------------
# 2. Checkpoints under weights_only=True (open-mmlab/mmengine#1655)
# --------------------------------------------------------------------------
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
        return torch.load(filename, map_location=map_location,
                          weights_only=True)
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


def install_checkpoint_allowlist() -> None:
    """Registers the allowlist and the safe local loader with mmengine."""
    from mmengine.runner.checkpoint import CheckpointLoader

    torch.serialization.add_safe_globals(checkpoint_safe_globals())
    if 'load_from_local' not in ORIGINALS:
        ORIGINALS['load_from_local'] = CheckpointLoader._schemes['']
    CheckpointLoader.register_scheme(
        prefixes='', loader=_load_from_local, force=True)


# --------------------------------------------------------------------------
# 3. numpy 2 ColorJitter hue overflow (NEP 50; cf. pytorch/vision#8536)
# --------------------------------------------------------------------------
def _adjust_hue_int16(img: np.ndarray, factor: float) -> np.ndarray:
    """mmaction ``ColorJitter.adjust_hue`` with the hue shift in int16."""
    import cv2
    img = np.clip(img, 0, 255).astype(np.uint8)
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
    offset = int(factor * 255)
    # numpy 1 promoted uint8 + negative int to int16; do so explicitly.
    hsv[..., 0] = (hsv[..., 0].astype(np.int16) + offset) % 180
    img = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    return img.astype(np.float32)


def install_color_jitter_fix() -> None:
    """Replaces ``ColorJitter.adjust_hue`` with the int16 version."""
    from mmaction.datasets.transforms import processing
    current = processing.ColorJitter.__dict__['adjust_hue'].__func__
    if current is _adjust_hue_int16:
        return
    ORIGINALS['ColorJitter.adjust_hue'] = current
    processing.ColorJitter.adjust_hue = staticmethod(_adjust_hue_int16)


# --------------------------------------------------------------------------
# 4. CPU multi-process init (mmengine/dist/utils.py::_init_dist_pytorch)
# --------------------------------------------------------------------------
def _init_dist_pytorch_cpu_aware(backend: str, init_backend: str = 'torch',
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


def install_cpu_dist_fix() -> None:
    """Routes mmengine's pytorch launcher through the CPU-aware init."""
    from mmengine.dist import utils as dist_utils
    if dist_utils._init_dist_pytorch is _init_dist_pytorch_cpu_aware:
        return
    ORIGINALS['_init_dist_pytorch'] = dist_utils._init_dist_pytorch
    dist_utils._init_dist_pytorch = _init_dist_pytorch_cpu_aware


# --------------------------------------------------------------------------
# 5. Atomic local writes (mmengine/fileio/backends/local_backend.py::put)
# --------------------------------------------------------------------------
def _atomic_put(self: Any, obj: bytes, filepath: Any) -> None:
    """``LocalBackend.put`` through a temporary file and ``os.replace``."""
    import tempfile
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


def install_atomic_put() -> None:
    """Replaces mmengine's ``LocalBackend.put`` with :func:`_atomic_put`."""
    from mmengine.fileio.backends.local_backend import LocalBackend
    if LocalBackend.put is _atomic_put:
        return
    ORIGINALS['LocalBackend.put'] = LocalBackend.put
    LocalBackend.put = _atomic_put


# --------------------------------------------------------------------------
# 6. Process group alive at interpreter exit (pytorch/pytorch#190489)
# --------------------------------------------------------------------------
def destroy_process_group_at_exit() -> None:
    """Destroys the default process group and frees what still holds it.

    Does nothing when no group is initialized. After
    ``destroy_process_group`` a group held by a DDP wrapper inside a reference
    cycle (the runner's) keeps its worker threads; ``gc.collect()`` frees the
    cycle now, while the interpreter can still serve those threads, instead of
    in the last collection of finalization, where it cannot.
    """
    distributed = torch.distributed
    if distributed.is_available() and distributed.is_initialized():
        distributed.destroy_process_group()
        gc.collect()


def install_process_group_teardown() -> None:
    """Registers :func:`destroy_process_group_at_exit` with ``atexit``.

    It is registered at plugin import, before any launcher initializes a
    group, so it covers every launcher (pytorch, slurm, mpi). ``atexit``
    handlers run before interpreter finalization, which is the point.
    ``unregister`` first keeps exactly one registration.
    """
    atexit.unregister(destroy_process_group_at_exit)
    atexit.register(destroy_process_group_at_exit)


def apply_all() -> None:
    """Applies every fix; safe to call more than once."""
    install_drn_fallback()
    install_checkpoint_allowlist()
    install_color_jitter_fix()
    install_cpu_dist_fix()
    install_atomic_put()
    install_process_group_teardown()
