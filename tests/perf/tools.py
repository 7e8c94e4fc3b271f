"""Imports a script of tools/ as a module, without touching sys.path."""
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

TOOLS = Path(__file__).resolve().parents[2] / 'tools'


def load_tool(name: str) -> ModuleType:
    """Imports ``tools/<name>.py`` as the module ``img_tools_<name>``.

    Args:
        name: Script name without ``.py``.

    Returns:
        The module (cached in ``sys.modules``).
    """
    module_name = f'img_tools_{name}'
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name,
                                                      TOOLS / f'{name}.py')
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return sys.modules[module_name]
