"""docs/training.md, run: two node ranks of a multi-node job on one machine.

The page's commands run here with these declared substitutions only:

* ``CONFIG`` is the tiny TSM recipe of ``img_mmaction.testing`` (gloo, DDP
  without device ids: CPU processes), trained for its 1 epoch, so
  ``epoch_50.pth`` is ``epoch_1.pth``;
* one process per node (``--nproc_per_node=8`` -> ``1``) and 2 in all for
  ``mim`` (``--gpus 8`` -> ``2``);
* both nodes are this machine: ``10.0.0.1`` -> ``127.0.0.1``, port
  ``29500`` -> a free one; each node runs in a folder of its own with its
  own copy of the data, as two machines would;
* ``python``, ``torchrun`` and ``mim`` are this venv's.

The data: 5 videos (an odd number), the train, val and test list of the
recipe, so that the samplers of 2 processes pad.
"""
import os
import pickle
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Dict, List

import pytest

from img_mmaction.testing import TINY_TSM_CONFIG, make_video_dataset
from .mim_cli import failure_report

pytestmark = pytest.mark.slow  # torchrun and mim subprocesses

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / 'docs' / 'training.md'
BIN = Path(sys.executable).parent
NUM_VIDEOS = 5


def page_commands(page: Path = PAGE) -> List[str]:
    """The command lines of a page's ``bash`` blocks (continuations joined,
    comments dropped)."""
    commands, block = [], None
    for line in page.read_text().splitlines():
        if line.strip() == '```bash':
            block = []
        elif line.strip() == '```' and block is not None:
            text = '\n'.join(block).replace('\\\n', ' ')
            commands += [
                ' '.join(c.split()) for c in text.splitlines()
                if c.strip() and not c.strip().startswith('#')
            ]
            block = None
        elif block is not None:
            block.append(line)
    return commands


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def substitute(command: str, port: int) -> str:
    """The declared substitutions of the module docstring."""
    for old, new in (('--nproc_per_node=8', '--nproc_per_node=1'),
                     ('--gpus 8', '--gpus 2'), ('10.0.0.1', '127.0.0.1'),
                     ('29500', str(port)), ('CONFIG', str(TINY_TSM_CONFIG)),
                     ('epoch_50.pth', 'epoch_1.pth')):
        command = command.replace(old, new)
    return command


def shell(script: str, cwd: Path) -> subprocess.CompletedProcess:
    """Runs a bash script with this venv's programs first on PATH."""
    env = dict(
        os.environ,
        PATH=f'{BIN}{os.pathsep}{os.environ["PATH"]}',
        PYTHONWARNINGS='ignore')
    return subprocess.run(['bash', '-c', f'set -e\n{script}'],
                          cwd=cwd,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=600)


def checked(result: subprocess.CompletedProcess, what: str) -> str:
    output = result.stdout + result.stderr
    assert result.returncode == 0, f'{what}\n' + failure_report(output)
    return output


def find(commands: List[str], *parts: str) -> str:
    found = [c for c in commands if all(p in c for p in parts)]
    assert len(found) == 1, f'{PAGE.name}: {parts} in {found}'
    return found[0]


@pytest.fixture(scope='module')
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Path]:
    """Two node folders, each with the 5 videos; node 0 trains as rank 0."""
    root = tmp_path_factory.mktemp('multinode')
    node0, node1 = root / 'node0', root / 'node1'
    make_video_dataset(node0 / 'data', num_videos=NUM_VIDEOS, num_classes=2)
    shutil.copytree(node0 / 'data', node1 / 'data')
    return dict(root=root, node0=node0, node1=node1)


@pytest.fixture(scope='module')
def trained(nodes: Dict[str, Path]) -> Dict[str, str]:
    """The page's two torchrun commands, started together; their output."""
    commands = page_commands()
    train = find(commands, 'TRAIN=$(python')
    port = free_port()
    results: Dict[str, subprocess.CompletedProcess] = {}

    def start(rank: int) -> None:
        line = find(commands, 'torchrun', f'--node_rank={rank}')
        script = substitute(f'{train}\n{line}', port)
        results[f'node{rank}'] = shell(script, nodes[f'node{rank}'])

    threads = [threading.Thread(target=start, args=(r, )) for r in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {name: checked(result, name) for name, result in results.items()}


def test_two_node_ranks_train_and_only_rank_0_saves(nodes: Dict[str, Path],
                                                    trained: Dict[str, str]
                                                    ) -> None:
    out = trained['node0']
    assert 'Distributed training: True' in out
    assert 'GPU number: 2' in out  # mmengine's name for the world size
    # 5 videos padded to 6, 3 per rank, batches of 2: 2 iterations a rank
    # (a single process would run 3).
    assert re.search(r'Epoch\(train\) +\[1\]\[2/2\]', out), out[-3000:]
    checkpoints = sorted(nodes['root'].rglob('*.pth'))
    assert checkpoints == [
        nodes['node0'] / 'work_dirs' / 'run' / 'epoch_1.pth'
    ]
    # Rank 1 writes no log, config dump or checkpoint of its own.
    written = nodes['node1'] / 'work_dirs'
    assert written.is_dir()  # it ran there
    assert [p for p in written.rglob('*') if p.is_file()] == []
    assert (nodes['node0'] / 'work_dirs' / 'run' /
            'tsm_tiny_video.py').is_file()


def test_two_process_test_of_the_checkpoint_counts_every_sample_once(
        nodes: Dict[str, Path], trained: Dict[str, str]) -> None:
    command = find(page_commands(), 'mim test', '--launcher pytorch')
    out = checked(
        shell(substitute(command, free_port()), nodes['node0']), command)
    assert 'Load checkpoint from' in out
    with open(nodes['node0'] / 'work_dirs' / 'run' / 'predictions.pkl',
              'rb') as handle:
        samples = pickle.load(handle)  # written by this test's own run
    lines = (nodes['node0'] / 'data' / 'ann.txt').read_text().split()
    assert len(samples) == NUM_VIDEOS
    assert [int(s['gt_label'].reshape(-1)[0])
            for s in samples] == [int(label) for label in lines[1::2]]


def test_every_command_of_the_page_is_run_or_accounted_for() -> None:
    """Commands not run above say why in the page; this keeps the list."""
    not_run_here = {
        # the single-node commands: tests/e2e/test_mim.py runs
        # `mim train mmaction CONFIG --launcher pytorch --gpus 2`
        'mim train mmaction CONFIG --launcher pytorch --gpus 8 '
        '--work-dir work_dirs/run',
        # Slurm: no Slurm here, and mmengine's slurm init needs CUDA
        'mim train img_mmaction CONFIG --launcher slurm --gpus 16 '
        '--gpus-per-node 8 --partition P --work-dir work_dirs/run',
        # AmpOptimWrapper asserts a GPU
        'mim train mmaction CONFIG --launcher pytorch --gpus 8 --amp '
        '--work-dir work_dirs/run_amp',
        # CPU autocast is bfloat16, whose scores MMAction2's AccMetric cannot
        # turn into numpy arrays
        'mim test mmaction CONFIG --checkpoint work_dirs/run/epoch_50.pth '
        '--cfg-options test_cfg.fp16=True',
    }
    run_here = [
        find(page_commands(), 'TRAIN=$(python'),
        find(page_commands(), 'torchrun', '--node_rank=0'),
        find(page_commands(), 'torchrun', '--node_rank=1'),
        find(page_commands(), 'mim test', '--launcher pytorch')
    ]
    for command in page_commands():
        assert command in not_run_here or command in run_here, command
    assert not_run_here <= set(page_commands())
    for command in page_commands():
        shlex.split(command)  # well-formed
