"""Installs img_mmaction, the IMG video recognition plugin for MMAction2.

As OpenMMLab packages do, the recipes (``configs/``), the ``mim`` tools
(``tools/``) and the model index travel inside the package, under
``img_mmaction/.mim/``: copied into the build for a wheel (so that a
non-editable install from a wheel or a git URL has them), linked from the
clone for an editable install. The clone's own ``img_mmaction/.mim`` only
ever holds those links, so a wheel build never leaves a stale copy that
hides an edit. The lab (``benchmarks/``) and the tests are not installed.
"""
import os
import shutil
import sys
from pathlib import Path
from setuptools import find_packages, setup
from setuptools.command.build_py import build_py
from typing import List

HERE = Path(__file__).parent
MIM_FILES = ('configs', 'tools', 'metafile.yml', 'model-index.yml')


def read_requirements(path: str) -> List[str]:
    """Returns the requirement lines of a file, without comments; ``-r
    FILE`` lines (relative to the file) are read in place."""
    requirements = []
    for line in (HERE / path).read_text().splitlines():
        line = line.split('#')[0].strip()
        if line.startswith('-r '):
            included = Path(path).parent / line[3:].strip()
            requirements += read_requirements(str(included))
        elif line:
            requirements.append(line)
    return requirements


def _clear(target: Path) -> None:
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)


def link_mim_files() -> None:
    """Links the recipes and tools into the clone's ``img_mmaction/.mim``,
    for an editable install (``develop`` / ``editable_wheel``)."""
    mim_dir = HERE / 'img_mmaction' / '.mim'
    mim_dir.mkdir(exist_ok=True)
    for name in MIM_FILES:
        target = mim_dir / name
        _clear(target)
        if (HERE / name).exists():
            os.symlink(os.path.relpath(HERE / name, mim_dir), target)


class BuildPyWithMim(build_py):
    """``build_py`` that copies the recipes and tools into the build's
    ``img_mmaction/.mim`` (Python files only, no caches)."""

    def run(self) -> None:
        super().run()
        mim_dir = Path(self.build_lib) / 'img_mmaction' / '.mim'
        _clear(mim_dir)
        mim_dir.mkdir(parents=True)
        for name in MIM_FILES:
            source = HERE / name
            if source.is_dir():
                shutil.copytree(
                    source,
                    mim_dir / name,
                    ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
            elif source.is_file():
                shutil.copyfile(source, mim_dir / name)


if {'develop', 'editable_wheel'} & set(sys.argv):
    link_mim_files()

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
    package_data={'img_mmaction.testing': ['configs/*.py']},
    cmdclass={'build_py': BuildPyWithMim},
    install_requires=read_requirements('requirements.txt'),
    extras_require={
        # openmim itself must be installed with --no-deps (see the Makefile).
        'mim': read_requirements('requirements/mim.txt'),
        'deploy': read_requirements('requirements/deploy.txt'),
        'tests': read_requirements('requirements/tests.txt'),
    },
    license='Apache-2.0',
    classifiers=[
        'Programming Language :: Python :: 3',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
)
