"""IMG (integration of multigranular motion features) for MMAction2.

Importing this package applies the upstream workarounds of
:mod:`img_mmaction.compat` first, then registers the plugin's models,
datasets and transforms in MMAction2's registries. Configs load it with::

    custom_imports = dict(imports=['img_mmaction'], allow_failed_imports=False)
"""
from .compat import apply_all as _apply_compat

_apply_compat()

from . import datasets, engine, models  # noqa: E402,F401  (registration)

__version__ = '0.1.0'
