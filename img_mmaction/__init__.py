"""IMG (integration of multigranular motion features) for MMAction2.

Importing this package applies the upstream workarounds of
:mod:`img_mmaction.compat` where the installed versions need them, then
registers the plugin's models, datasets, transforms, hooks, optimizer
constructor and runner in MMAction2's registries, and makes
``img_mmaction::`` config paths resolvable. Configs load it with::

    custom_imports = dict(imports=['img_mmaction'], allow_failed_imports=False)
"""
from .compat import apply_all as _apply_compat

_apply_compat()

from . import datasets, engine, models, registry  # noqa: E402,F401,I001

__version__ = '0.2.0'
