"""Installed, not cloned: a wheel built from a git URL has recipes and tools.

The repository is copied (what git tracks, plus new files) into a fresh git
repository, built with ``pip wheel git+file://...`` as a user's ``pip
install git+URL`` would, and installed with ``--no-deps`` into a new venv
that sees this venv's dependencies but not its editable img_mmaction. From
a folder outside any clone, that venv then finds the packaged recipes,
resolves ``img_mmaction::`` bases, and trains the demo recipe with ``mim
train img_mmaction`` (the package's own ``.mim/tools/train.py``).
"""
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # pip, venv and mim subprocesses

REPO = Path(__file__).resolve().parents[2]
DEMO = 'img_res2net-tiny_1xb8-1x1x8-12e_motion-demo-rgb.py'


def run(args, cwd: Path, env=None) -> str:
    result = subprocess.run([str(a) for a in args],
                            cwd=cwd,
                            env=env,
                            capture_output=True,
                            text=True,
                            timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output


@pytest.fixture(scope='module')
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp('source')
    files = run(['git', 'ls-files', '-co', '--exclude-standard'],
                REPO).split('\n')
    for name in filter(None, files):
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    git = ['git', '-c', 'user.name=t', '-c', 'user.email=t@t']
    run([*git, 'init', '-q'], source)
    run([*git, 'add', '-A'], source)
    run([*git, 'commit', '-qm', 'snapshot'], source)
    dist = tmp_path_factory.mktemp('dist')
    run([
        sys.executable, '-m', 'pip', 'wheel', '--no-deps',
        '--no-build-isolation', '-w', dist, f'git+file://{source}'
    ], dist)
    return next(dist.glob('img_mmaction-*.whl'))


@pytest.fixture(scope='module')
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp('venv')
    run([sys.executable, '-m', 'venv', root], root)
    python = root / 'bin' / 'python'
    site = Path(
        run([
            python, '-c', 'import sysconfig; print(sysconfig.'
            'get_paths()["purelib"])'
        ], root).strip())
    # This venv's packages (torch, mmaction2, ...) without processing its
    # .pth files, so its editable img_mmaction stays out of sight.
    (site / 'dependencies.pth').write_text(sysconfig.get_paths()['purelib'] +
                                           '\n')
    run([python, '-m', 'pip', 'install', '--no-deps', '--no-index', wheel],
        root)
    return root


def test_the_wheel_carries_recipes_tools_and_test_configs(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in (f'img_mmaction/.mim/configs/demo/{DEMO}',
                 'img_mmaction/.mim/configs/_base_/img_plugin.py',
                 'img_mmaction/.mim/tools/train.py',
                 'img_mmaction/.mim/model-index.yml',
                 'img_mmaction/testing/configs/tsm_tiny_video.py'):
        assert name in names, name


def test_installed_package_trains_a_packaged_recipe_with_mim(
        venv: Path, tmp_path: Path) -> None:
    python = venv / 'bin' / 'python'
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    where = run([
        python, '-c', 'import img_mmaction, img_mmaction.utils as u;'
        ' print(img_mmaction.__file__); print(u.config_root())'
    ], tmp_path, env).strip().split('\n')[-2:]
    assert where[0].startswith(str(venv)) and '.mim/configs' in where[1]
    # A user's leaf that inherits a packaged base by its scope.
    leaf = tmp_path / 'mine.py'
    leaf.write_text(
        "_base_ = ['mmaction::recognition/tsn/tsn_imagenet-pretrained-r50_"
        "8xb32-1x1x8-100e_kinetics400-rgb.py', "
        "'img_mmaction::_base_/img_plugin.py']\n")
    out = run([
        python, '-c', 'import img_mmaction\n'
        'from mmengine.config import Config\n'
        f'print(Config.fromfile("{leaf}").runner_type)'
    ], tmp_path, env)
    assert out.strip().endswith('RobustRunner')
    run([
        python, '-m', 'img_mmaction.synthetic', '--out', 'data',
        '--videos-per-class', '1', '--val-per-class', '1', '--frames', '8'
    ], tmp_path, env)
    options = ['train_cfg.max_epochs=1']
    for loader, ann in (('train_dataloader', 'train'),
                        ('val_dataloader', 'val'), ('test_dataloader', 'val')):
        options += [
            f'{loader}.dataset.ann_file=data/{ann}.txt',
            f'{loader}.dataset.data_prefix.video=data/videos'
        ]
    out = run([
        python, '-m', 'mim', 'train', 'img_mmaction', DEMO, '--work-dir',
        'work', '--cfg-options', *options
    ], tmp_path, env)
    assert 'we find the config file in codebase img_mmaction' in out
    assert (tmp_path / 'work' / 'epoch_1.pth').is_file()
