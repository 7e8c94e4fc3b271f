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
can show the defect is real and the fix active. The log says once, at debug
level, which fixes are active (:func:`summary`).

Switches, in the environment: ``IMG_MMACTION_COMPAT=0`` turns every fix off
but those without which ``import img_mmaction`` cannot work
(:data:`REQUIRED`: fix 1 where its defect is present);
``IMG_MMACTION_COMPAT_OFF=segment_guard,7`` turns the named (or numbered)
fixes off. What each fixes, why, and how it was found: docs/compat.md.

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
import logging
import os
from typing import Dict, List, NamedTuple, Set

from mmengine.logging import print_log

from ._originals import ORIGINALS
from .atomic_put import _atomic_put
from .checkpoints import (UntrustedCheckpointError, checkpoint_safe_globals,
                          safe_torch_load)
from .cpu_dist import _init_dist_pytorch_cpu_aware
from .drn import DRNFallbackFinder
from .teardown import destroy_process_group_at_exit

#: The environment variable that turns every fix off (but :data:`REQUIRED`)
#: when set to 0.
SWITCH = 'IMG_MMACTION_COMPAT'
#: The environment variable that turns the fixes it names (module names or
#: numbers, comma-separated) off.
SWITCH_OFF = 'IMG_MMACTION_COMPAT_OFF'
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

#: Fixes without which ``import img_mmaction`` fails where their defect is
#: present: the switches cannot turn them off.
REQUIRED = (1, )

#: Outcome of :func:`apply_all`: fix number -> 'active', 'not needed',
#: 'off', or 'required' (active although the switch said off). Empty until
#: it ran.
STATUS: Dict[int, str] = {}


def enabled() -> bool:
    """False when ``IMG_MMACTION_COMPAT`` turns the fixes off."""
    return os.environ.get(SWITCH, '1').strip().lower() not in _OFF


def switched_off() -> Set[int]:
    """The fixes the environment turns off.

    Returns:
        Every fix number when ``IMG_MMACTION_COMPAT`` is 0, else those that
        ``IMG_MMACTION_COMPAT_OFF`` names.

    Raises:
        ValueError: ``IMG_MMACTION_COMPAT_OFF`` names no fix, or a fix of
            :data:`REQUIRED`.
    """
    if not enabled():
        return {fix.number for fix in FIXES}
    numbers = set()
    by_name = {fix.module: fix.number for fix in FIXES}
    by_name.update({str(fix.number): fix.number for fix in FIXES})
    for name in os.environ.get(SWITCH_OFF, '').split(','):
        name = name.strip()
        if not name:
            continue
        if name not in by_name:
            raise ValueError(
                f'{SWITCH_OFF} names {name!r}, which is no fix; the fixes '
                'are ' + ', '.join(f'{f.number} ({f.module})' for f in FIXES))
        numbers.add(by_name[name])
    for number in sorted(numbers & set(REQUIRED)):
        if fix_module(number).needed():
            info = next(fix for fix in FIXES if fix.number == number)
            raise ValueError(
                f'{SWITCH_OFF}: fix {number} ({info.module}) is required: '
                f'without it the installed versions cannot import '
                f'mmaction.models ({info.title})')
    return numbers


def fix_module(number: int):
    """Imports and returns the module of fix ``number``."""
    info = next(fix for fix in FIXES if fix.number == number)
    return importlib.import_module(f'{__name__}.{info.module}')


def summary() -> str:
    """One line: which fixes are active, not needed, off or required."""
    if not STATUS:
        return 'img_mmaction compat fixes: not applied yet'
    groups = {}
    for fix in FIXES:
        groups.setdefault(STATUS.get(fix.number), []).append(fix)
    line = 'img_mmaction compat fixes active: ' + (', '.join(
        f'{f.number} ({f.module})'
        for f in groups.get('active', [])) or 'none')
    if groups.get('required'):
        line += '; required: ' + ', '.join(f'{f.number} ({f.module})'
                                           for f in groups['required'])
    for state in ('off', 'not needed'):
        if groups.get(state):
            line += f'; {state}: ' + ', '.join(
                str(f.number) for f in groups[state])
    return line + (f' (docs/compat.md; {SWITCH}=0 or {SWITCH_OFF}=NAME,... '
                   'turn them off)')


def apply_all(log: bool = True) -> Dict[int, str]:
    """Installs every fix whose defect the installed versions have.

    Fixes are probed and installed in order (fix 1 first: the later probes
    import ``mmaction.models``), but those the switches turn off
    (:func:`switched_off`); a fix of :data:`REQUIRED` whose defect is
    present is installed all the same. Safe to call more than once: later
    calls change nothing.

    Args:
        log: Log :func:`summary` the first time, at debug level. Defaults
            to True.

    Returns:
        :data:`STATUS`.

    Raises:
        ValueError: The switches name no fix, or a required one.
    """
    if STATUS:
        return STATUS
    off = switched_off()
    for info in FIXES:
        module = fix_module(info.number)
        if info.number in off and info.number not in REQUIRED:
            STATUS[info.number] = 'off'
        elif module.needed():
            module.install()
            STATUS[info.number] = ('required'
                                   if info.number in off else 'active')
        else:
            STATUS[info.number] = 'not needed'
    if log:
        print_log(summary(), logger='current', level=logging.DEBUG)
    return STATUS


def active_fixes() -> List[int]:
    """Numbers of the installed fixes."""
    return [
        n for n, state in STATUS.items() if state in ('active', 'required')
    ]


__all__ = [
    'DRNFallbackFinder', 'FIXES', 'ORIGINALS', 'REQUIRED', 'STATUS', 'SWITCH',
    'SWITCH_OFF', 'switched_off', 'UntrustedCheckpointError', 'active_fixes',
    'apply_all', 'checkpoint_safe_globals', 'destroy_process_group_at_exit',
    'enabled', 'fix_module', 'safe_torch_load', 'summary', '_atomic_put',
    '_init_dist_pytorch_cpu_aware'
]
