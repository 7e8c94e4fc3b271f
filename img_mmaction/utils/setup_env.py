"""``register_all_modules``: what mmengine calls for a scope it meets.

A config inherited as ``img_mmaction::...`` gives its dicts the scope
``img_mmaction``; when a registry of that scope builds or looks up a type,
mmengine imports ``img_mmaction.utils`` and calls its
``register_all_modules`` (as every OpenMMLab package provides one).
"""
from __future__ import annotations
import importlib


def register_all_modules(init_default_scope: bool = True) -> None:
    """Registers every IMG and MMAction2 component.

    IMG's components live in MMAction2's registries (``img_mmaction``'s are
    their children), so this imports the plugin (its compat fixes and its
    registrations) and then runs MMAction2's own ``register_all_modules``.

    Args:
        init_default_scope: Make ``mmaction`` the default scope when none is
            set, as MMAction2's function does. Defaults to True.
    """
    importlib.import_module('img_mmaction')
    from mmaction.utils import register_all_modules as register_mmaction
    register_mmaction(init_default_scope=init_default_scope)
