"""Fix 1: ``mmaction.models.localizers.drn`` is missing from the wheel.

mmaction2 1.2.0's wheel lacks the ``drn`` folder (open-mmlab/mmaction2#2714)
while ``mmaction/models/localizers/__init__.py`` imports ``.drn.drn``, so
``import mmaction.models`` fails and no recipe builds. A fallback finder at
the *end* of ``sys.meta_path`` serves a placeholder only when the real
import fails, so a fixed wheel is never shadowed; using ``DRN`` raises a
clear ImportError.
"""
from __future__ import annotations
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
from pathlib import Path
from typing import Any, Optional, Sequence

UPSTREAM = 'open-mmlab/mmaction2#2714'
# mmaction/models/localizers/__init__.py does ``from .drn.drn import DRN``.
_DRN_PACKAGE = 'mmaction.models.localizers.drn'
_DRN_MODULES = (_DRN_PACKAGE, _DRN_PACKAGE + '.drn')


class _MissingDRN:
    """Stand-in for the ``DRN`` localizer absent from the mmaction2 wheel."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise ImportError(
            'mmaction.models.localizers.drn is missing from the installed '
            f'mmaction2 wheel ({UPSTREAM}); img_mmaction provides a '
            'placeholder so that recognizers build, but DRN itself cannot be '
            'used. Install mmaction2 from source to use it.')


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

    def find_spec(
        self,
        fullname: str,
        path: Optional[Sequence[str]],
        target: Optional[types.ModuleType] = None
    ) -> Optional[importlib.machinery.ModuleSpec]:
        if fullname not in _DRN_MODULES:
            return None
        return importlib.machinery.ModuleSpec(
            fullname,
            _DRNPlaceholderLoader(),
            is_package=fullname == _DRN_PACKAGE)


def needed() -> bool:
    """The installed mmaction2 has no ``models/localizers/drn`` folder."""
    spec = importlib.util.find_spec('mmaction')
    if spec is None or spec.origin is None:
        return False
    return not (Path(spec.origin).parent / 'models' / 'localizers' /
                'drn').is_dir()


def install() -> None:
    """Appends :class:`DRNFallbackFinder` to ``sys.meta_path`` once."""
    if not any(isinstance(f, DRNFallbackFinder) for f in sys.meta_path):
        sys.meta_path.append(DRNFallbackFinder())
