"""Where the packaged recipes and tools are."""
from __future__ import annotations
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def config_root() -> Path:
    """The folder of the recipes (``configs/`` of the repository).

    An installed package holds them in ``img_mmaction/.mim/configs`` (a copy
    in a wheel, a link in an editable install), where OpenMMLab packages
    keep theirs. In a source tree (a ``setup.py`` beside the package) the
    repository's own ``configs/`` is used, so that a copy left there by a
    wheel build never hides an edit.

    Returns:
        The folder.

    Raises:
        FileNotFoundError: Neither exists.
    """
    source_tree = (PACKAGE.parent / 'setup.py').is_file()
    candidates = ((PACKAGE.parent / 'configs',
                   PACKAGE / '.mim' / 'configs') if source_tree else
                  (PACKAGE / '.mim' / 'configs', ))
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f'no recipes found: neither {PACKAGE / ".mim" / "configs"} nor '
        f'{PACKAGE.parent / "configs"} exists; reinstall img_mmaction')


def config_path(relative: str) -> Path:
    """The path of a recipe, e.g. ``'demo/img_res2net-tiny_...py'``.

    Args:
        relative: Path under ``configs/``.

    Returns:
        The file.

    Raises:
        FileNotFoundError: There is no such recipe.
    """
    path = config_root() / relative
    if not path.is_file():
        raise FileNotFoundError(f'no recipe {relative} under {config_root()}')
    return path
