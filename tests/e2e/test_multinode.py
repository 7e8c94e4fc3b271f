"""docs/training.md, run: two node ranks of a multi-node job on one machine.

The page's torchrun block is read from the page with the replacements its
marker declares (``tests.docs.blocks``): ``CONFIG`` is the tiny TSM recipe of
``img_mmaction.testing`` (gloo, DDP without device ids: CPU processes),
trained for its 1 epoch, one process per node, ``10.0.0.1`` is this
machine and ``$PORT`` a free port. Both node commands start together, each
in a folder of its own with its own copy of the data, as two machines
would. The 2-process ``mim test`` of the one-machine block (run as written
by the docs harness too) then tests the checkpoint node 0 wrote.

The data: 5 videos (an odd number), the train, val and test list of the
recipe, so that the samplers of 2 processes pad.
"""
import os
import pickle
import re
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Dict, List

import pytest

from img_mmaction.testing import TINY_TSM_CONFIG, make_video_dataset
from tests.docs.blocks import blocks_run_by, read_blocks
from .mim_cli import failure_report

pytestmark = pytest.mark.slow  # torchrun and mim subprocesses

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / 'docs' / 'training.md'
BIN = Path(sys.executable).parent
NUM_VIDEOS = 5

THIS_TEST = 'tests/e2e/test_multinode.py'


def node_commands() -> List[str]:
    """The torchrun block's commands, the marker's replacements applied."""
    blocks = blocks_run_by(THIS_TEST)
    assert len(blocks) == 1, [b.where for b in blocks]
    return blocks[0].commands()


def one_machine_test() -> str:
    """The one-machine ``mim test`` command, as the harness runs it."""
    found = [
        command for block in read_blocks(PAGE) if block.kind == 'run'
        for command in block.commands() if command.startswith('mim test')
    ]
    assert len(found) == 1, found
    return found[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def shell(script: str, cwd: Path, port: int) -> subprocess.CompletedProcess:
    """Runs a bash script with this venv's programs first on PATH."""
    env = dict(
        os.environ,
        PATH=f'{BIN}{os.pathsep}{os.environ["PATH"]}',
        PYTHONWARNINGS='ignore',
        PORT=str(port),
        TINY_TSM_CONFIG=str(TINY_TSM_CONFIG))
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
    commands = node_commands()
    train = find(commands, 'TRAIN=$(python')
    port = free_port()
    results: Dict[str, subprocess.CompletedProcess] = {}

    def start(rank: int) -> None:
        line = find(commands, 'torchrun', f'--node_rank={rank}')
        results[f'node{rank}'] = shell(f'{train}\n{line}',
                                       nodes[f'node{rank}'], port)

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
    command = one_machine_test()
    out = checked(shell(command, nodes['node0'], free_port()), command)
    assert 'Load checkpoint from' in out
    with open(nodes['node0'] / 'work_dirs' / 'run' / 'predictions.pkl',
              'rb') as handle:
        samples = pickle.load(handle)  # written by this test's own run
    lines = (nodes['node0'] / 'data' / 'ann.txt').read_text().split()
    assert len(samples) == NUM_VIDEOS
    assert [int(s['gt_label'].reshape(-1)[0])
            for s in samples] == [int(label) for label in lines[1::2]]
