"""Workarounds for upstream defects of the pinned stack, in one place.

``import img_mmaction`` calls :func:`apply_all`. Configs load the plugin
through ``custom_imports``, which ``Config.fromfile`` processes before the
registries import ``mmaction.models``, so the fixes are in place before
anything needs them.

Each fix is a module of this package with a ``needed()`` probe, which tells
whether the installed versions have the defect (by trying the defective
operation where that is cheap, else by reading the upstream code), and an
idempotent ``install()``. A fix is installed only where its probe finds the
defect; the originals it replaces stay in :data:`ORIGINALS`, so that tests
can show the defect is real and the fix active. The log says once which
fixes are active. ``IMG_MMACTION_COMPAT=0`` in the environment turns all of
them off. What each fixes, why, and how it was found: docs/compat.md.

====  ====================  ===============================================
fix   module                upstream defect
====  ====================  ===============================================
1     ``drn``               mmaction2 wheel lacks ``localizers/drn``
2     ``checkpoints``       mmengine loads checkpoints without weights_only
3     ``color_jitter``      ColorJitter hue overflow under numpy 2
4     ``cpu_dist``          ``--launcher pytorch`` needs CUDA
5     ``atomic_put``        checkpoints written in place
6     ``teardown``          process group alive at interpreter exit
7     ``tsm_constructor``   TSM optimizer constructor refuses new modules
8     ``segment_guard``     Recognizer2D mixes clips without a check
====  ====================  ===============================================
"""
from __future__ import annotations
import importlib
import os
from typing import Dict, List, NamedTuple

from mmengine.logging import print_log

from ._originals import ORIGINALS
from .atomic_put import _atomic_put
from .checkpoints import (UntrustedCheckpointError, checkpoint_safe_globals,
                          safe_torch_load)
from .cpu_dist import _init_dist_pytorch_cpu_aware
from .drn import DRNFallbackFinder
from .teardown import destroy_process_group_at_exit

#: The environment variable that turns every fix off when set to 0.
SWITCH = 'IMG_MMACTION_COMPAT'
_OFF = ('0', 'off', 'false', 'no')


class FixInfo(NamedTuple):
    """A fix: its number, module (under this package) and one-line title."""

    number: int
    module: str
    title: str


FIXES = (
    FixInfo(1, 'drn', 'mmaction2 wheel lacks models/localizers/drn'),
    FixInfo(2, 'checkpoints', 'checkpoints load with weights_only=True and '
            'an allowlist'),
    FixInfo(3, 'color_jitter', 'ColorJitter hue in int16 under numpy 2'),
    FixInfo(4, 'cpu_dist', '--launcher pytorch without CUDA'),
    FixInfo(5, 'atomic_put', 'atomic checkpoint writes'),
    FixInfo(6, 'teardown', 'process group destroyed before exit'),
    FixInfo(7, 'tsm_constructor', 'TSMOptimWrapperConstructor knows the '
            'adaptive shift'),
    FixInfo(8, 'segment_guard', 'Recognizer2D checks frames per sample'),
)

#: Outcome of :func:`apply_all`: fix number -> 'active', 'not needed' or
#: 'off'. Empty until it ran.
STATUS: Dict[int, str] = {}


def enabled() -> bool:
    """False when ``IMG_MMACTION_COMPAT`` turns the fixes off."""
    return os.environ.get(SWITCH, '1').strip().lower() not in _OFF


def fix_module(number: int):
    """Imports and returns the module of fix ``number``."""
    info = next(fix for fix in FIXES if fix.number == number)
    return importlib.import_module(f'{__name__}.{info.module}')


def summary() -> str:
    """One line: which fixes are active, which were not needed, or off."""
    if not STATUS:
        return 'img_mmaction compat fixes: not applied yet'
    if set(STATUS.values()) == {'off'}:
        return (f'img_mmaction compat fixes: all off ({SWITCH}='
                f'{os.environ.get(SWITCH)})')
    active = [
        f'{f.number} ({f.module})' for f in FIXES
        if STATUS.get(f.number) == 'active'
    ]
    idle = [
        str(f.number) for f in FIXES if STATUS.get(f.number) == 'not needed'
    ]
    line = ('img_mmaction compat fixes active: ' +
            (', '.join(active) or 'none'))
    if idle:
        line += f'; not needed here: {", ".join(idle)}'
    return line + f' (docs/compat.md; {SWITCH}=0 turns them off)'


def apply_all(log: bool = True) -> Dict[int, str]:
    """Installs every fix whose defect the installed versions have.

    Fixes are probed and installed in order (fix 1 first: the later probes
    import ``mmaction.models``). Safe to call more than once: later calls
    change nothing.

    Args:
        log: Log :func:`summary` the first time. Defaults to True.

    Returns:
        :data:`STATUS`.
    """
    if STATUS:
        return STATUS
    for info in FIXES:
        if not enabled():
            STATUS[info.number] = 'off'
            continue
        module = fix_module(info.number)
        if module.needed():
            module.install()
            STATUS[info.number] = 'active'
        else:
            STATUS[info.number] = 'not needed'
    if log:
        print_log(summary(), logger='current')
    return STATUS


def active_fixes() -> List[int]:
    """Numbers of the installed fixes."""
    return [n for n, state in STATUS.items() if state == 'active']


__all__ = [
    'DRNFallbackFinder', 'FIXES', 'ORIGINALS', 'STATUS', 'SWITCH',
    'UntrustedCheckpointError', 'active_fixes', 'apply_all',
    'checkpoint_safe_globals', 'destroy_process_group_at_exit', 'enabled',
    'fix_module', 'safe_torch_load', 'summary', '_atomic_put',
    '_init_dist_pytorch_cpu_aware'
]
