"""Downloads the wheels that the GPU check installs on the device.

The GPU machine has Python 3.12, torch (a CUDA build), numpy, opencv and
onnxruntime, but not mmengine, mmcv-lite, mmaction2 or decord, and reaches
no package registry: what the check needs travels with the working tree as
wheels (at most 64 MiB per device command, docs/gpu.md). This command
downloads them here, for the device's Python and platform:

* the roots: the pinned packages of ``requirements.txt`` that the device
  lacks, and what the check itself imports (:data:`ROOTS`);
* everything they require, read from the ``Requires-Dist`` lines of each
  downloaded wheel, markers evaluated for the device (Linux, x86_64, the
  target Python, no extras);
* minus what the device has (:data:`DEVICE_PACKAGES` and everything they
  require, read from this environment's installed metadata) and what the
  check never imports (:data:`LEFT_OUT`).

Versions: the ``==`` pin of ``requirements*.txt`` where there is one, else
the version installed in this environment (the one the tests pass with),
checked against every specifier that asks for the package. It writes
``MANIFEST.json`` beside the wheels (each wheel, its size and who requires
it, and what was left out and why), removes wheels of earlier runs that are
no longer needed, and fails when the wheels exceed ``--limit-mib``.

Usage::

    python -m benchmarks.gpu.device_wheels            # -> wheels/
    python -m benchmarks.gpu.device_wheels --python-version 3.11 \\
        --dest /tmp/wheels311   # the same set for a CPU rehearsal here
"""
from __future__ import annotations
import argparse
import dataclasses
import datetime
import email.parser
import importlib.metadata
import json
import operator
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Set

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name, parse_wheel_filename

REPO = Path(__file__).resolve().parents[2]
#: What the check needs that the device lacks, and why.
ROOTS: Mapping[str, str] = {
    'mmengine': 'requirements.txt (pinned)',
    'mmcv-lite': 'requirements.txt (pinned)',
    'mmaction2': 'requirements.txt (pinned)',
    'decord': 'requirements.txt (pinned)',
    'setuptools': 'requirements.txt (below 82: mmengine imports '
    'pkg_resources, which setuptools 82 removed)',
    'importlib-metadata': 'requirements.txt (mmaction.utils imports it)',
    'pytest': 'requirements/tests.txt (the check runs the CUDA tests)',
    'pytest-timeout': 'requirements/tests.txt (pytest.ini sets a timeout)',
}
#: What the device has (docs/gpu.md); what these require is there too.
DEVICE_PACKAGES = ('torch', 'numpy', 'opencv-python', 'onnxruntime')
#: Other names of what the device has: the same ``cv2`` module.
DEVICE_ALIASES: Mapping[str, str] = {
    'opencv-contrib-python': 'opencv-python',
    'opencv-python-headless': 'opencv-python',
}
#: Required by the packages' metadata, never imported by the check.
LEFT_OUT: Mapping[str, str] = {
    'matplotlib':
    'imported only by the visualisers of mmengine and '
    'mmaction2, which neither the CUDA tests nor the benchmark run; with '
    'fonttools, kiwisolver and contourpy it would not fit the 64 MiB',
}
#: Platform tags of the device: manylinux2014 as asked, and
#: manylinux_2_28, the tag of the device's own torch CUDA wheels (so its
#: glibc is at least 2.28), which newer wheels (scipy) carry.
PLATFORMS = ('manylinux2014_x86_64', 'manylinux_2_28_x86_64')


def requirement_specifiers(paths: Iterable[Path]) -> Dict[str, SpecifierSet]:
    """The version specifiers of each package in requirement files.

    Args:
        paths: ``requirements.txt``-style files (``#`` comments allowed;
            option lines such as ``-r deploy.txt`` are skipped: every
            requirement file is read anyway).

    Returns:
        Canonical name -> the intersection of its specifiers.
    """
    specifiers: Dict[str, SpecifierSet] = {}
    for path in paths:
        for line in path.read_text().splitlines():
            line = line.split('#')[0].strip()
            if not line or line.startswith('-'):
                continue
            requirement = Requirement(line)
            name = canonicalize_name(requirement.name)
            specifiers[name] = specifiers.get(
                name, SpecifierSet()) & requirement.specifier
    return specifiers


def device_environment(python_version: str) -> Dict[str, str]:
    """Marker variables of the device (PEP 508), without ``extra``.

    Args:
        python_version: ``'3.12'``.

    Returns:
        The variables ``Marker.evaluate`` reads.
    """
    return dict(
        python_version=python_version,
        python_full_version=f'{python_version}.0',
        sys_platform='linux',
        platform_system='Linux',
        platform_machine='x86_64',
        os_name='posix',
        implementation_name='cpython',
        platform_python_implementation='CPython',
        platform_release='',
        platform_version='',
        implementation_version=f'{python_version}.0',
        extra='')


def applicable_requirements(lines: Iterable[str],
                            environment: Mapping[str,
                                                 str]) -> List[Requirement]:
    """The ``Requires-Dist`` lines whose markers hold on the device.

    Args:
        lines: ``Requires-Dist`` values.
        environment: :func:`device_environment`.

    Returns:
        The requirements that apply (extras' requirements do not).
    """
    applicable = []
    for line in lines:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate(
                dict(environment)):
            applicable.append(requirement)
    return applicable


def installed_closure(names: Iterable[str],
                      environment: Mapping[str, str]) -> Set[str]:
    """``names`` and everything they require, from installed metadata.

    Args:
        names: Installed distributions.
        environment: Marker variables (:func:`device_environment`).

    Returns:
        Canonical names of the closure (requirements of extras excluded).

    Raises:
        importlib.metadata.PackageNotFoundError: A name is not installed.
    """
    closure: Set[str] = set()
    todo = [canonicalize_name(n) for n in names]
    while todo:
        name = todo.pop()
        if name in closure:
            continue
        closure.add(name)
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            if name in {canonicalize_name(n) for n in names}:
                raise
            continue  # required here by a marker, not installed
        todo += [
            canonicalize_name(r.name)
            for r in applicable_requirements(requires, environment)
        ]
    return closure


def wheel_requires(path: Path) -> List[str]:
    """The ``Requires-Dist`` lines of a wheel's METADATA.

    Args:
        path: The wheel.

    Returns:
        The lines, as written.

    Raises:
        ValueError: The wheel has no ``*.dist-info/METADATA``.
    """
    with zipfile.ZipFile(path) as archive:
        names = [
            n for n in archive.namelist()
            if n.endswith('.dist-info/METADATA') and n.count('/') == 1
        ]
        if len(names) != 1:
            raise ValueError(f'{path.name}: expected one .dist-info/METADATA, '
                             f'found {names}')
        metadata = email.parser.Parser().parsestr(
            archive.read(names[0]).decode())
    return metadata.get_all('Requires-Dist') or []


def choose_version(name: str, specifier: SpecifierSet) -> str:
    """The version to download: the ``==`` pin, else the installed one.

    Args:
        name: Canonical name.
        specifier: Everything that asks for it, intersected.

    Returns:
        The version.

    Raises:
        ValueError: Not pinned and not installed here, or the installed
            version does not satisfy ``specifier``.
    """
    pins = [s.version for s in specifier if s.operator == '==']
    if len(pins) == 1 and '*' not in pins[0]:
        return pins[0]
    try:
        version = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        raise ValueError(
            f'{name} is required ({specifier or "any version"}) but neither '
            'pinned in requirements*.txt nor installed in this environment; '
            'install the project (make install) first') from None
    if specifier and version not in specifier:
        raise ValueError(f'{name}: the installed {version} does not satisfy '
                         f'{specifier}')
    return version


def pip_download(requirements: Sequence[str],
                 dest: Path,
                 python_version: str,
                 pip_options: Sequence[str] = ()) -> None:
    """``pip download`` of binary wheels for the device, without deps.

    Args:
        requirements: ``name==version`` strings.
        dest: The folder.
        python_version: ``'3.12'``.
        pip_options: More options of ``pip download`` (e.g. ``--no-index
            --find-links DIR``). Defaults to none.

    Raises:
        subprocess.CalledProcessError: pip failed (its output is shown).
    """
    command = [
        sys.executable, '-m', 'pip', 'download', '--only-binary=:all:',
        '--no-deps', '--implementation', 'cp', '--python-version',
        python_version, '--dest',
        str(dest)
    ]
    for platform in PLATFORMS:
        command += ['--platform', platform]
    subprocess.run(
        command + list(pip_options) + list(requirements), check=True)


def find_wheel(dest: Path, name: str, version: str) -> Path:
    """The wheel of ``name`` ``version`` in ``dest``.

    Args:
        dest: The folder.
        name: Canonical name.
        version: Its version.

    Returns:
        The path.

    Raises:
        FileNotFoundError: There is none.
    """
    for path in sorted(dest.glob('*.whl')):
        wheel_name, wheel_version, _, _ = parse_wheel_filename(path.name)
        if wheel_name == name and str(wheel_version) == version:
            return path
    raise FileNotFoundError(f'no wheel of {name}=={version} in {dest}')


@dataclasses.dataclass
class Resolution:
    """What :func:`resolve` knows between two levels of downloads.

    Args:
        specifiers: :func:`requirement_specifiers` of the project.
        environment: :func:`device_environment`.
        device_has: Canonical names the device has (never downloaded).
        wanted: Name -> everything that asks for it, intersected.
        required_by: Name -> who requires it (a root: why it is needed).
        skipped: Name -> why it is not downloaded.
        done: Name -> its manifest entry, once downloaded.
    """

    specifiers: Mapping[str, SpecifierSet]
    environment: Mapping[str, str]
    device_has: Set[str]
    wanted: Dict[str, SpecifierSet] = dataclasses.field(default_factory=dict)
    required_by: Dict[str, List[str]] = dataclasses.field(default_factory=dict)
    skipped: Dict[str, str] = dataclasses.field(default_factory=dict)
    done: Dict[str, dict] = dataclasses.field(default_factory=dict)

    def add_root(self, name: str, why: str) -> None:
        """Wants ``name`` (as the project specifies it) because of ``why``."""
        name = canonicalize_name(name)
        self.wanted[name] = SpecifierSet(str(self.specifiers.get(name, '')))
        self.required_by[name] = [why]

    def add_wheel(self, name: str, version: str, path: Path) -> List[str]:
        """Records a downloaded wheel and what it requires on the device.

        Args:
            name: Canonical name.
            version: Its version.
            path: The wheel.

        Returns:
            What it requires that is wanted and not downloaded yet.

        Raises:
            ValueError: It asks for another version of a downloaded wheel.
        """
        self.done[name] = dict(
            name=name,
            version=version,
            file=path.name,
            bytes=path.stat().st_size,
            required_by=self.required_by[name])
        following = []
        for requirement in applicable_requirements(
                wheel_requires(path), self.environment):
            dep = self.require(f'{name} {version}', requirement)
            if dep is not None and dep not in self.done:
                following.append(dep)
        return following

    def require(self, by: str, requirement: Requirement) -> Optional[str]:
        """Wants ``requirement`` of ``by``, unless the device has it.

        Args:
            by: ``'<name> <version>'`` of the wheel that requires it.
            requirement: One of its ``Requires-Dist``.

        Returns:
            The canonical name of the requirement, or None when it is
            skipped (the device has it, or :data:`LEFT_OUT`).

        Raises:
            ValueError: It asks for another version of a downloaded wheel.
        """
        dep = canonicalize_name(requirement.name)
        if DEVICE_ALIASES.get(dep, dep) in self.device_has:
            self.skipped[dep] = 'the device has it'
            return None
        if dep in LEFT_OUT:
            self.skipped[dep] = LEFT_OUT[dep]
            return None
        self.required_by.setdefault(dep, []).append(f'{by}: {requirement}')
        project = SpecifierSet(str(self.specifiers.get(dep, '')))
        self.wanted[dep] = self.wanted.get(dep,
                                           project) & requirement.specifier
        downloaded = self.done.get(dep, {}).get('version')
        if downloaded is not None and downloaded not in self.wanted[dep]:
            raise ValueError(f'{dep} {downloaded} was downloaded, but {by} '
                             f'asks for {requirement}')
        return dep


def resolve(
    dest: Path,
    python_version: str,
    specifiers: Mapping[str, SpecifierSet],
    roots: Optional[Mapping[str, str]] = None,
    pip_options: Sequence[str] = ()
) -> dict:
    """Downloads the roots and their requirements, level by level.

    Args:
        dest: Where the wheels go.
        python_version: The device's Python, ``'3.12'``.
        specifiers: :func:`requirement_specifiers` of the project.
        roots: Name -> why it is needed. Defaults to None (:data:`ROOTS`).
        pip_options: More options of ``pip download``. Defaults to none.

    Returns:
        The manifest: ``wheels`` (name, version, file, bytes,
        required_by), ``device_has``, ``left_out`` and the settings.
    """
    environment = device_environment(python_version)
    state = Resolution(specifiers, environment,
                       installed_closure(DEVICE_PACKAGES, environment))
    for name, why in (ROOTS if roots is None else roots).items():
        state.add_root(name, why)
    level = list(state.wanted)
    while level:
        versions = {n: choose_version(n, state.wanted[n]) for n in level}
        pip_download([f'{n}=={v}' for n, v in versions.items()], dest,
                     python_version, pip_options)
        following: List[str] = []
        for name, version in versions.items():
            path = find_wheel(dest, name, version)
            for dep in state.add_wheel(name, version, path):
                if dep not in following:
                    following.append(dep)
        level = [n for n in following if n not in state.done]
    return dict(
        python_version=python_version,
        platforms=list(PLATFORMS),
        device_packages=list(DEVICE_PACKAGES),
        wheels=sorted(state.done.values(), key=operator.itemgetter('name')),
        skipped=dict(sorted(state.skipped.items())))


def remove_stale(dest: Path, keep: Iterable[str]) -> List[str]:
    """Removes the wheels in ``dest`` that the manifest does not list.

    Args:
        dest: The folder.
        keep: File names to keep.

    Returns:
        The names removed.
    """
    keep = set(keep)
    removed = []
    for path in sorted(dest.glob('*.whl')):
        if path.name not in keep:
            path.unlink()
            removed.append(path.name)
    return removed


def build_parser() -> argparse.ArgumentParser:
    """The command line.

    Returns:
        The parser.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--dest', default=str(REPO / 'wheels'), help='default: wheels/')
    parser.add_argument('--python-version', default='3.12')
    parser.add_argument(
        '--find-links',
        default=None,
        metavar='DIR',
        help='take the wheels from DIR only, not from a registry')
    parser.add_argument(
        '--limit-mib',
        type=float,
        default=64.0,
        help='what may travel with a device command (default: 64)')
    return parser


def project_specifiers() -> Dict[str, SpecifierSet]:
    """:func:`requirement_specifiers` of ``requirements.txt`` and
    ``requirements/*.txt``."""
    files = sorted((REPO / 'requirements').glob('*.txt'))
    return requirement_specifiers([REPO / 'requirements.txt'] + files)


def add_totals(manifest: dict, limit_mib: float,
               argv: Optional[Sequence[str]]) -> None:
    """Adds the size, the limit, the date and the command, in place.

    Args:
        manifest: :func:`resolve`'s manifest.
        limit_mib: ``--limit-mib``.
        argv: The command-line arguments given to :func:`main` (None:
            ``sys.argv``).
    """
    total = sum(w['bytes'] for w in manifest['wheels'])
    manifest.update(
        total_bytes=total,
        total_mib=round(total / 2**20, 2),
        limit_mib=limit_mib,
        created=datetime.datetime.now().astimezone().isoformat(
            timespec='seconds'),
        command='python -m benchmarks.gpu.device_wheels ' +
        ' '.join(argv if argv is not None else sys.argv[1:]))


def print_summary(manifest: dict, dest: Path) -> None:
    """Prints each wheel and its size, the total and what was left out."""
    print('| wheel | bytes |\n|---|---|')
    for wheel in manifest['wheels']:
        print(f"| {wheel['file']} | {wheel['bytes']} |")
    print(f"{len(manifest['wheels'])} wheels, {manifest['total_mib']} MiB "
          f"in {dest} (limit {manifest['limit_mib']} MiB); left out: " +
          ', '.join(f'{k} ({v})'
                    for k, v in manifest['skipped'].items() if k in LEFT_OUT))


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Downloads the wheels, writes the manifest, checks the size.

    Args:
        argv: Command-line arguments. Defaults to None (``sys.argv``).

    Returns:
        The manifest.

    Raises:
        SystemExit: The wheels exceed ``--limit-mib`` (exit status 1).
    """
    args = build_parser().parse_args(argv)
    dest = Path(args.dest)
    dest.mkdir(parents=True, exist_ok=True)
    pip_options = [] if args.find_links is None else [
        '--no-index', '--find-links', args.find_links
    ]
    manifest = resolve(
        dest,
        args.python_version,
        project_specifiers(),
        pip_options=pip_options)
    manifest['removed_stale'] = remove_stale(
        dest, [w['file'] for w in manifest['wheels']])
    add_totals(manifest, args.limit_mib, argv)
    (dest / 'MANIFEST.json').write_text(json.dumps(manifest, indent=2))
    print_summary(manifest, dest)
    if manifest['total_bytes'] > args.limit_mib * 2**20:
        raise SystemExit(f"device_wheels: {manifest['total_mib']} MiB of "
                         f'wheels exceed --limit-mib {args.limit_mib}')
    return manifest


if __name__ == '__main__':
    main()
