"""Where the packaged recipes are, and a recipe named as ``mim`` names it."""
from __future__ import annotations
import importlib.resources
from pathlib import Path
from typing import List, Union

#: The installed package's folder.
PACKAGE = Path(str(importlib.resources.files('img_mmaction')))
#: Where the recipes travel with the package, as in OpenMMLab packages: a
#: copy in a wheel, a link to the clone's ``configs/`` in an editable
#: install (``setup.py``).
MIM_CONFIGS = PACKAGE / '.mim' / 'configs'


def config_root() -> Path:
    """The folder of the packaged recipes, ``img_mmaction/.mim/configs``.

    Returns:
        The folder.

    Raises:
        FileNotFoundError: The package was not installed (an import from a
            clone that was never ``pip install``-ed has no recipes).
    """
    if not MIM_CONFIGS.is_dir():
        raise FileNotFoundError(
            f'no packaged recipes: {MIM_CONFIGS} does not exist; install '
            'img_mmaction (pip install -e . in a clone, or pip install the '
            'wheel), or give the recipe by its path')
    return MIM_CONFIGS


def config_path(relative: str) -> Path:
    """The path of a packaged recipe, e.g. ``'demo/img_res2net-tiny_...py'``.

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


def resolve_config(config: Union[str, Path]) -> Path:
    """A recipe given as ``mim`` takes it: a path, or a packaged recipe's name.

    Args:
        config: An existing file; else a packaged recipe's file name (with or
            without ``.py``, e.g. ``'img-causal_res2net-tiny_1xb8-8x1x1-12e_
            motion-demo-rgb'``) or its path under ``configs/``.

    Returns:
        The file.

    Raises:
        FileNotFoundError: Neither a file nor a packaged recipe; or a name
            that several packaged recipes share (all are listed).
    """
    path = Path(config)
    if path.is_file():
        return path
    name = path.name if path.suffix == '.py' else f'{path.name}.py'
    relative = path.with_name(name)
    root = config_root()
    if (root / relative).is_file():
        return root / relative
    matches: List[Path] = sorted(root.rglob(name))
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise FileNotFoundError(
            f'{config} is neither a file nor a packaged recipe (none named '
            f'{name} under {root})')
    raise FileNotFoundError(
        f'{config} names {len(matches)} packaged recipes: ' +
        ', '.join(str(m.relative_to(root))
                  for m in matches) + '; give its path under configs/')
