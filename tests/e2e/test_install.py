"""The two ways a user installs the plugin, each followed by ``mim``.

* A wheel, built from a git URL as ``pip install git+URL`` builds it, in a
  fresh venv with everything pip resolves for it: the install commands of
  README.md (the ``venv`` block of ``tests.docs.blocks``), run as written
  with the replacements the block's marker declares (this torch version,
  the wheel for the clone).
* The editable ``make install`` of a clone: this test suite's own venv,
  which ``make test`` creates that way.

In both, from a folder outside any clone: the demo data generator, then
``mim train img_mmaction`` and ``mim test img_mmaction`` of a packaged recipe
named by its file name, and a leaf recipe that inherits the plugin base by
its ``img_mmaction::`` scope.
"""
import importlib.metadata
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.docs.blocks import all_blocks

pytestmark = pytest.mark.slow  # pip, venv and mim subprocesses

REPO = Path(__file__).resolve().parents[2]
DEMO = 'img_res2net-tiny_1xb8-1x1x8-12e_motion-demo-rgb.py'


def run(args, cwd: Path, env=None, check: bool = True) -> str:
    result = subprocess.run([str(a) for a in args],
                            cwd=cwd,
                            env=env,
                            capture_output=True,
                            text=True,
                            timeout=900)
    output = result.stdout + result.stderr
    if check:
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
        sys.executable, '-m', 'pip', 'wheel', '--no-deps', '-w', dist,
        f'git+file://{source}'
    ], dist)
    return next(dist.glob('img_mmaction-*.whl'))


@pytest.fixture(scope='module')
def wheel_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv where pip resolves everything, as a user's."""
    root = tmp_path_factory.mktemp('venv')
    run([sys.executable, '-m', 'venv', root], root)
    blocks = [b for b in all_blocks() if b.kind == 'venv']
    env = dict(
        os.environ,
        PATH=f'{root / "bin"}{os.pathsep}{os.environ["PATH"]}',
        WHEEL=str(wheel),
        TORCH_VERSION=importlib.metadata.version('torch').split('+')[0])
    env.pop('PYTHONPATH', None)
    run(['bash', '-e', '-c', blocks[0].command_text()], root, env)
    return root


def test_the_wheel_carries_recipes_and_tools_but_not_the_lab(wheel: Path
                                                             ) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in (f'img_mmaction/.mim/configs/demo/{DEMO}',
                 'img_mmaction/.mim/configs/_base_/img_plugin.py',
                 'img_mmaction/.mim/tools/train.py',
                 'img_mmaction/.mim/model-index.yml',
                 'img_mmaction/testing/configs/tsm_tiny_video.py'):
        assert name in names, name
    lab = [n for n in names if n.startswith(('benchmarks/', 'tests/'))]
    assert not lab, lab
    assert not any('__pycache__' in name for name in names)


def user_journey(bin_dir: Path, workspace: Path) -> None:
    """What a user does after installing, from a folder of their own."""
    python, mim = bin_dir / 'python', bin_dir / 'mim'
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    env.pop('PYTHONPATH', None)
    where = run([
        python, '-c', 'import img_mmaction, img_mmaction.utils as u;'
        ' print(u.config_root())'
    ], workspace, env)
    assert where.strip().endswith('.mim/configs'), where
    # A leaf recipe inheriting the plugin base by its scope.
    leaf = workspace / 'mine.py'
    leaf.write_text(
        "_base_ = ['mmaction::recognition/tsm/tsm_imagenet-pretrained-r50_"
        "8xb16-1x1x8-50e_kinetics400-rgb.py', "
        "'img_mmaction::_base_/img_plugin.py']\n")
    out = run([
        python, '-c', 'import img_mmaction\n'
        'from mmengine.config import Config\n'
        'from img_mmaction.registry import HOOKS\n'
        f'cfg = Config.fromfile("{leaf}")\n'
        'print(cfg.runner_type, HOOKS.get("StrictCheckpointHook").__name__)'
    ], workspace, env)
    assert out.strip().endswith('RobustRunner StrictCheckpointHook'), out
    run([
        python, '-m', 'img_mmaction.synthetic', '--out', 'data',
        '--videos-per-class', '1', '--val-per-class', '1', '--frames', '8'
    ], workspace, env)
    options = ['train_cfg.max_epochs=1']
    for loader, ann in (('train_dataloader', 'train'),
                        ('val_dataloader', 'val'), ('test_dataloader', 'val')):
        options += [
            f'{loader}.dataset.ann_file=data/{ann}.txt',
            f'{loader}.dataset.data_prefix.video=data/videos'
        ]
    out = run([
        mim, 'train', 'img_mmaction', DEMO, '--work-dir', 'work',
        '--cfg-options', *options
    ], workspace, env)
    assert 'we find the config file in codebase img_mmaction' in out
    assert (workspace / 'work' / 'epoch_1.pth').is_file()
    out = run([
        mim, 'test', 'img_mmaction', DEMO, '--checkpoint', 'work/epoch_1.pth',
        '--work-dir', 'tested', '--cfg-options', *options[1:]
    ], workspace, env)
    assert 'acc/top1' in out


def test_a_wheel_in_a_fresh_venv_trains_and_tests_with_mim(
        wheel_venv: Path, tmp_path: Path) -> None:
    user_journey(wheel_venv / 'bin', tmp_path)


def test_a_wheel_runs_the_demo_from_any_folder(wheel_venv: Path,
                                               tmp_path: Path) -> None:
    """What ``make demo`` runs, for a pip user without a clone."""
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    env.pop('PYTHONPATH', None)
    out = run([
        wheel_venv / 'bin' / 'python', '-m', 'img_mmaction.demo.run', '--out',
        'demo', '--epochs', '1', '--videos-per-class', '1', '--val-per-class',
        '1'
    ], tmp_path, env)
    assert '| IMG |' in out and '| TSN |' in out
    for name in ('results.md', 'confusion.png', 'cmem_attention.png'):
        assert (tmp_path / 'demo' / name).is_file(), name


def _site_link() -> Path:
    return Path(sysconfig.get_paths()['purelib']) / 'img_mmaction'


def test_the_editable_make_install_tests_with_mim(tmp_path: Path) -> None:
    """This venv is the one ``make install`` made (``make test`` runs the
    suite in it): an editable install plus the link mim needs. (The docs
    harness trains the README's recipes with ``mim train img_mmaction``
    in it.)"""
    link = _site_link()
    assert link.is_symlink(), (
        f'{link} is missing: run the suite through make test (make install '
        'makes the editable install and this link)')
    user_journey(Path(sys.executable).parent, tmp_path)


def test_mim_needs_the_link_an_editable_install_lacks(tmp_path: Path) -> None:
    """Without the link (a plain pip install -e), mim cannot find the
    package's tools: the Makefile's workaround is needed."""
    link = _site_link()
    assert link.is_symlink()
    target = os.readlink(link)
    mim = Path(sys.executable).with_name('mim')
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    link.unlink()
    try:
        out = run([mim, 'train', 'img_mmaction', DEMO, '--work-dir', 'w'],
                  tmp_path,
                  env,
                  check=False)
    finally:
        os.symlink(target, link)
    assert 'img_mmaction/tools/train.py' in out or \
        'can not find the config file' in out, out[-2000:]
    assert not (tmp_path / 'w').exists()
