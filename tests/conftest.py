"""Shared test set-up: the plugin's fixes, and MMAction2's default scope."""
from mmaction.utils import register_all_modules

import img_mmaction  # noqa: F401  (compat fixes + registration)

register_all_modules(init_default_scope=True)
