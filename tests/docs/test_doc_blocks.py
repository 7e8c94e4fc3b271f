"""Every fenced command and recipe of the pages runs, as written.

The pages' blocks and their markers: :mod:`tests.docs.blocks` (which also
says what each kind of marker makes this test do). All pages share one
workspace, in page order (README.md, projects_readme.md, docs/), so a block
may use what an earlier one made (``make demo``'s model, a trained
checkpoint); a one-step command already run for an earlier page is not run
again. The workspace holds, before the first block: the Res2Net-50 ImageNet
weights file the recipes name (``checkpoints/res2net50_26w_4s-06e79181.pth``,
the official layout with random values: the real file cannot be downloaded
here), tiny stand-ins of SthV1 and UCF101 in their owners' layouts under
``data/`` (:mod:`tests.docs.datasets`, for docs/data_preparation.md), and the
tiny datasets of :mod:`tests.docs.one_step`.
"""
import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, Set

import pytest
import torch

from img_mmaction.testing import TINY_TSM_CONFIG, make_video_dataset
from .blocks import REPO, Block, all_blocks, expand, pages, read_blocks, split
from .datasets import write_sthv1, write_ucf101
from .one_step import TinyData, run_one_step

RUNNABLE = ('run', 'python', 'recipe', 'one-step')


def test_every_block_is_marked() -> None:
    """A new block that no test runs fails here: mark it (tests.docs.blocks)
    so that it runs, or say why it does not (output, suite, venv)."""
    unmarked = [block.where for block in all_blocks() if block.kind is None]
    assert not unmarked, ('fenced blocks without a <!-- test: ... --> '
                          f'marker: {unmarked}')


def test_every_block_run_by_a_test_names_an_existing_test() -> None:
    for block in all_blocks():
        if block.kind == 'by':
            test = REPO / block.argument
            assert test.is_file(), f'{block.where}: no test {block.argument}'
            text = test.read_text()
            assert any(
                call in text
                for call in ('blocks_run_by(', 'commands_run_by(')), (
                    block.where)


def test_every_venv_block_is_the_one_the_install_test_runs() -> None:
    venv = [b for b in all_blocks() if b.kind == 'venv']
    assert venv, 'the install commands are documented somewhere'
    assert {b.argument for b in venv} == {'(tests/e2e/test_install.py)'}
    assert len({b.command_text() for b in venv}) == 1, [b.where for b in venv]


@pytest.fixture(scope='module')
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.models.reference_res2net import Res2Net
    work = tmp_path_factory.mktemp('docs')
    weights = work / 'checkpoints' / 'res2net50_26w_4s-06e79181.pth'
    weights.parent.mkdir()
    torch.manual_seed(0)
    torch.save(Res2Net().state_dict(), weights)
    write_sthv1(work / 'data')
    write_ucf101(work / 'data')
    make_video_dataset(work / 'data', num_videos=5)  # TINY_TSM_CONFIG's
    return work


@pytest.fixture(scope='module')
def environment(workspace: Path) -> Dict[str, str]:
    from img_mmaction.testing.footage import footage_path
    venv_bin = Path(sys.executable).parent
    env = dict(os.environ)
    env.update(
        PATH=f'{venv_bin}{os.pathsep}{env.get("PATH", "")}',
        PYTHONWARNINGS='ignore',
        WORK=str(workspace),
        REPO=str(REPO),
        VENV=str(venv_bin.parent),
        VIDEO=str(footage_path('bigbuckbunny.mp4')),
        TORCH_VERSION=importlib.metadata.version('torch').split('+')[0],
        PYTHON_VERSION=f'{sys.version_info.major}.{sys.version_info.minor}',
        TINY_TSM_CONFIG=str(TINY_TSM_CONFIG))
    env.pop('PYTHONPATH', None)
    return env


@pytest.fixture(scope='module')
def tiny_data(workspace: Path) -> TinyData:
    return TinyData(workspace / '_tiny')


@pytest.fixture(scope='module')
def done() -> Set[str]:
    """One-step commands already run (for an earlier page)."""
    return set()


def _run_shell(block: Block, cwd: Path, env: Dict[str, str]) -> None:
    text = block.command_text()
    if block.kind == 'python':
        script = cwd / f'_block_{block.line}.py'
        script.write_text(text)
        command = [sys.executable, str(script)]
    else:
        command = ['bash', '-e', '-o', 'pipefail', '-c', text]
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, (
        f'{block.where} failed:\n{text}\n'
        f'{(result.stdout + result.stderr)[-4000:]}')


RUN_PAGES = [
    page for page in pages() if any(
        b.kind in RUNNABLE for b in read_blocks(page))
]


@pytest.mark.slow
@pytest.mark.parametrize(
    'page', RUN_PAGES, ids=[str(p.relative_to(REPO)) for p in RUN_PAGES])
def test_the_blocks_of_the_page_run(page: Path, workspace: Path,
                                    environment: Dict[str, str],
                                    tiny_data: TinyData,
                                    done: Set[str]) -> None:
    for block in read_blocks(page):
        cwd = REPO if block.in_repo else workspace
        if block.kind == 'recipe':
            (workspace / block.argument).write_text(block.command_text())
        elif block.kind in ('run', 'python'):
            _run_shell(block, cwd, environment)
        elif block.kind == 'one-step':
            for command in block.commands():
                command = expand(command, environment)
                if command in done:
                    continue
                try:
                    run_one_step(split(command), cwd, environment, tiny_data)
                except AssertionError as error:
                    raise AssertionError(f'{block.where}: {error}') from None
                done.add(command)
