"""Installs img_mmaction, the IMG video recognition plugin for MMAction2.

As OpenMMLab packages do, the recipes (``configs/``), the ``mim`` tools
(``tools/``) and the model index travel inside the package, under
``img_mmaction/.mim/``: copied for a wheel or an sdist (so that a
non-editable install from a wheel or a git URL has them), linked for an
editable install.
"""
import os
import shutil
import sys
from pathlib import Path
from setuptools import find_packages, setup
from typing import List

HERE = Path(__file__).parent
MIM_FILES = ('configs', 'tools', 'metafile.yml', 'model-index.yml')


def read_requirements(path: str) -> List[str]:
    """Returns the requirement lines of a file, without comments."""
    lines = (HERE / path).read_text().splitlines()
    return [
        line.split('#')[0].strip() for line in lines
        if line.split('#')[0].strip()
    ]


def add_mim_extension() -> None:
    """Puts the recipes and tools under ``img_mmaction/.mim``.

    Links for an editable install (``develop`` / ``editable_wheel``), copies
    for everything that builds a distribution.
    """
    if {'develop', 'editable_wheel'} & set(sys.argv):
        mode = 'symlink'
    elif {'sdist', 'bdist_wheel', 'build', 'build_py', 'egg_info'} \
            & set(sys.argv):
        mode = 'copy'
    else:
        return
    mim_dir = HERE / 'img_mmaction' / '.mim'
    mim_dir.mkdir(exist_ok=True)
    for name in MIM_FILES:
        source = HERE / name
        target = mim_dir / name
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target)
        if not source.exists():
            continue
        if mode == 'symlink':
            os.symlink(os.path.relpath(source, mim_dir), target)
        elif source.is_dir():
            shutil.copytree(
                source, target, ignore=shutil.ignore_patterns('__pycache__'))
        else:
            shutil.copyfile(source, target)


add_mim_extension()

setup(
    name='img_mmaction',
    version='0.2.0',
    description=(
        'IMG: integration of multigranular motion features '
        '(CMEM + CLIM) for video recognition, as an MMAction2 plugin'),
    long_description=(HERE / 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    python_requires='>=3.9',
    packages=find_packages(include=['img_mmaction', 'img_mmaction.*']),
    package_data={
        'img_mmaction': [
            '.mim/configs/**/*.py', '.mim/tools/*.py', '.mim/tools/**/*.py',
            '.mim/*.yml'
        ],
        'img_mmaction.testing': ['configs/*.py'],
    },
    install_requires=read_requirements('requirements.txt'),
    extras_require={
        # openmim itself must be installed with --no-deps (see the Makefile).
        'mim': read_requirements('requirements/mim.txt'),
        'tests': read_requirements('requirements/tests.txt'),
    },
    license='Apache-2.0',
    classifiers=[
        'Programming Language :: Python :: 3',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
)
