"""gpu.device_wheels: the wheels the GPU check carries to the device."""
import json
import zipfile
from pathlib import Path
from typing import Dict, Sequence

import pytest
from packaging.specifiers import SpecifierSet

from benchmarks.gpu import device_wheels as wheels

DEVICE = wheels.device_environment('3.12')


def make_wheel(folder: Path,
               name: str,
               version: str,
               requires: Sequence[str] = (),
               modules: Dict[str, str] = None) -> Path:
    """A pure-Python wheel written by hand (METADATA, WHEEL, RECORD)."""
    folder.mkdir(parents=True, exist_ok=True)
    dist_info = f'{name}-{version}.dist-info'
    path = folder / f'{name}-{version}-py3-none-any.whl'
    metadata = [
        'Metadata-Version: 2.1', f'Name: {name}', f'Version: {version}'
    ] + [f'Requires-Dist: {r}' for r in requires]
    files = {
        f'{dist_info}/METADATA':
        '\n'.join(metadata) + '\n',
        f'{dist_info}/WHEEL':
        'Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\n'
        'Tag: py3-none-any\n',
        **(modules or {})
    }
    files[f'{dist_info}/RECORD'] = ''.join(f'{f},,\n' for f in files) + \
        f'{dist_info}/RECORD,,\n'
    with zipfile.ZipFile(path, 'w') as archive:
        for member, text in files.items():
            archive.writestr(member, text)
    return path


def test_requirement_files_give_pins_and_ranges(tmp_path: Path) -> None:
    first = tmp_path / 'requirements.txt'
    first.write_text('# comment\nmmengine==0.10.7\nsetuptools>=77.0.3,<82\n'
                     'numpy>=1.24  # why\n')
    second = tmp_path / 'tests.txt'
    second.write_text('pytest>=7\n-r deploy.txt\nNumPy<3\n')
    specifiers = wheels.requirement_specifiers([first, second])
    assert specifiers['mmengine'] == SpecifierSet('==0.10.7')
    assert specifiers['numpy'] == SpecifierSet('>=1.24,<3')
    assert wheels.choose_version('mmengine', specifiers['mmengine']) == \
        '0.10.7'


def test_the_project_pins_what_the_device_lacks() -> None:
    specifiers = wheels.requirement_specifiers([
        wheels.REPO / 'requirements.txt', *sorted(
            (wheels.REPO / 'requirements').glob('*.txt'))
    ])
    for name in ('mmengine', 'mmcv-lite', 'mmaction2', 'decord'):
        assert name in wheels.ROOTS
        assert [s.operator for s in specifiers[name]] == ['=='], name


def test_markers_are_evaluated_for_the_device() -> None:
    lines = [
        'addict', 'regex; sys_platform == "win32"',
        'tomli>=2.0.1; python_version < "3.11"', 'pytest; extra == "tests"',
        'setuptools; python_version >= "3.12"'
    ]
    names = [r.name for r in wheels.applicable_requirements(lines, DEVICE)]
    assert names == ['addict', 'setuptools']


def test_version_is_the_installed_one_and_must_satisfy() -> None:
    import importlib.metadata
    installed = importlib.metadata.version('pytest')
    assert wheels.choose_version('pytest', SpecifierSet('>=7')) == installed
    with pytest.raises(
            ValueError,
            match=f'pytest: the installed '
            f'{installed} does not satisfy <1'):
        wheels.choose_version('pytest', SpecifierSet('<1'))
    with pytest.raises(ValueError, match='neither pinned .* nor installed'):
        wheels.choose_version('no-such-package-here', SpecifierSet())


def test_device_closure_reads_installed_metadata() -> None:
    closure = wheels.installed_closure(['pytest'], DEVICE)
    assert {'pytest', 'pluggy', 'iniconfig', 'packaging'} <= closure


def test_resolve_follows_requirements_and_skips_what_the_device_has(
        tmp_path: Path) -> None:
    index = tmp_path / 'index'
    make_wheel(index, 'alpha', '1.0',
               ['beta>=2', 'torch', 'matplotlib', 'gamma; extra == "x"'])
    make_wheel(index, 'beta', '2.1', ['delta==0.3'])
    make_wheel(index, 'beta', '1.0')
    make_wheel(index, 'delta', '0.3', ['numpy', 'opencv-contrib-python'])
    dest = tmp_path / 'dest'
    dest.mkdir()
    (dest / 'stale-0.1-py3-none-any.whl').write_text('')
    pins = {
        n: SpecifierSet(f'=={v}')
        for n, v in (('alpha', '1.0'), ('beta', '2.1'))
    }
    manifest = wheels.resolve(
        dest,
        '3.12',
        pins,
        roots={'alpha': 'a test'},
        pip_options=['--no-index', '--find-links',
                     str(index)])
    got = {
        w['name']: (w['version'], w['required_by'])
        for w in manifest['wheels']
    }
    assert got == {
        'alpha': ('1.0', ['a test']),
        'beta': ('2.1', ['alpha 1.0: beta>=2']),
        'delta': ('0.3', ['beta 2.1: delta==0.3']),
    }
    assert manifest['skipped'] == {
        'matplotlib': wheels.LEFT_OUT['matplotlib'],
        'numpy': 'the device has it',
        'opencv-contrib-python': 'the device has it',
        'torch': 'the device has it',
    }
    assert wheels.remove_stale(dest, [w['file'] for w in manifest['wheels']
                                      ]) == ['stale-0.1-py3-none-any.whl']
    assert sorted(p.name for p in dest.iterdir()) == sorted(
        w['file'] for w in manifest['wheels'])


def test_main_refuses_wheels_over_the_limit(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    """The size check, with the roots of a project made here."""
    index = tmp_path / 'index'
    make_wheel(index, 'alpha', '1.0', modules={'alpha.py': 'x = 1\n' * 5000})
    monkeypatch.setattr(wheels, 'ROOTS', {'alpha': 'a test'})
    monkeypatch.setattr(wheels, 'REPO', tmp_path)
    (tmp_path / 'requirements').mkdir()
    (tmp_path / 'requirements.txt').write_text('alpha==1.0\n')
    dest = tmp_path / 'wheels'
    local = ['--dest', str(dest), '--find-links', str(index)]
    manifest = wheels.main(local)
    assert manifest['total_bytes'] == (
        dest / manifest['wheels'][0]['file']).stat().st_size
    assert json.loads(
        (dest / 'MANIFEST.json').read_text())['wheels'][0]['name'] == 'alpha'
    with pytest.raises(SystemExit, match='exceed --limit-mib 0.0001'):
        wheels.main(local + ['--limit-mib', '0.0001'])


def test_resolution_skips_what_the_device_has_and_refuses_a_conflict() -> None:
    from packaging.requirements import Requirement
    state = wheels.Resolution({'beta': SpecifierSet('<3')}, DEVICE,
                              {'numpy', 'opencv-python'})
    state.add_root('Alpha', 'a test')
    assert state.wanted == {'alpha': SpecifierSet()}
    assert state.require('alpha 1.0', Requirement('numpy>=1')) is None
    assert state.require('alpha 1.0',
                         Requirement('opencv-python-headless')) is None
    assert state.require('alpha 1.0', Requirement('matplotlib')) is None
    assert state.skipped == {
        'numpy': 'the device has it',
        'opencv-python-headless': 'the device has it',
        'matplotlib': wheels.LEFT_OUT['matplotlib'],
    }
    assert state.require('alpha 1.0', Requirement('Beta>=2')) == 'beta'
    assert state.wanted['beta'] == SpecifierSet('>=2,<3')
    assert state.required_by['beta'] == ['alpha 1.0: Beta>=2']
    state.done['beta'] = dict(version='2.5')
    with pytest.raises(
            ValueError,
            match='beta 2.5 was downloaded, but gamma 1.0 asks '
            'for beta<2.5'):
        state.require('gamma 1.0', Requirement('beta<2.5'))
