"""The ``deploy`` extra: the packages ONNX export and ONNX Runtime need."""
from __future__ import annotations
import importlib.util

#: The packages of ``pip install 'img_mmaction[deploy]'``.
DEPLOY_PACKAGES = ('onnx', 'onnxruntime')


def require_deploy_extra(purpose: str) -> None:
    """Raises unless the ``deploy`` extra is installed.

    Args:
        purpose: What needs it, for the message (e.g. ``'ONNX export'``).

    Raises:
        ImportError: A package of :data:`DEPLOY_PACKAGES` is missing; the
            message names it and the install command.
    """
    missing = [
        name for name in DEPLOY_PACKAGES
        if importlib.util.find_spec(name) is None
    ]
    if missing:
        raise ImportError(
            f'{purpose} needs {" and ".join(missing)}: pip install '
            "'img_mmaction[deploy]' (from a clone: pip install '.[deploy]')")
