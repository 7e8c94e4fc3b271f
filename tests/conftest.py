"""Shared test set-up: the plugin's fixes, and MMAction2's default scope."""
import img_mmaction  # noqa: F401  (compat fixes + registration)
from mmaction.utils import register_all_modules

register_all_modules(init_default_scope=True)
