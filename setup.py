"""Installs img_mmaction, the IMG video recognition plugin for MMAction2."""
from pathlib import Path
from typing import List

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def read_requirements(path: str) -> List[str]:
    """Returns the requirement lines of a file, without comments."""
    lines = (HERE / path).read_text().splitlines()
    return [line.split('#')[0].strip() for line in lines
            if line.split('#')[0].strip()]


setup(
    name='img_mmaction',
    version='0.1.0',
    description=('IMG: integration of multigranular motion features '
                 '(CMEM + CLIM) for video recognition, as an MMAction2 plugin'),
    long_description=(HERE / 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    python_requires='>=3.9',
    packages=find_packages(include=['img_mmaction', 'img_mmaction.*']),
    install_requires=read_requirements('requirements.txt'),
    extras_require={
        # openmim itself must be installed with --no-deps (see the Makefile).
        'mim': read_requirements('requirements/mim.txt'),
        'tests': read_requirements('requirements/tests.txt'),
    },
    entry_points={'console_scripts': []},
    license='Apache-2.0',
    classifiers=[
        'Programming Language :: Python :: 3',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
)
