"""docs/your_videos.md, run: class folders -> lists + recipe -> mim train/test.

Every command of the page's ``bash`` blocks runs here, in order, in an empty
folder, as a user would type it, with these declared substitutions only:

* ``mim`` is this venv's, run as a subprocess;
* ``python -m MODULE ARGS`` runs ``MODULE.main(ARGS)`` in this process (what
  the module's ``__main__`` block does; it saves an interpreter start each);
* ``mim train`` trains 1 epoch instead of the recipe's 12
  (``--cfg-options train_cfg.max_epochs=1``), so ``epoch_12.pth`` is
  ``epoch_1.pth`` in every command;
* the ImageNet weights file the Res2Net-50 command names is a stand-in (no
  download here); that the written recipe loads the real file's layout
  strictly is tested in ``tests/datasets/test_video_folder.py``.
"""
import importlib
import os
import pickle
import re
import shlex
import subprocess
from collections import Counter
from pathlib import Path
from typing import List

import pytest

from img_mmaction.datasets.video_folder import build_video_folder
from .mim_cli import MIM, failure_report

pytestmark = pytest.mark.slow  # mim subprocesses

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / 'docs' / 'your_videos.md'
RECIPE = 'data/my_videos/img_res2net-tiny_my_videos.py'


def page_commands(page: Path = PAGE) -> List[List[str]]:
    """The commands of a page's ``bash`` blocks, continuation lines joined."""
    commands, block = [], None
    for line in page.read_text().splitlines():
        if line.strip() == '```bash':
            block = []
        elif line.strip() == '```' and block is not None:
            text = '\n'.join(block).replace('\\\n', ' ')
            commands += [
                shlex.split(c) for c in text.splitlines()
                if c.strip() and not c.strip().startswith('#')
            ]
            block = None
        elif block is not None:
            block.append(line)
    return commands


def run(command: List[str], cwd: Path, capsys: pytest.CaptureFixture) -> str:
    """Runs a page command with the substitutions of the module docstring."""
    program, *args = command
    args = [a.replace('epoch_12.pth', 'epoch_1.pth') for a in args]
    if program == 'python':
        assert args[0] == '-m', f'{PAGE.name}: unexpected command {command}'
        capsys.readouterr()
        previous = os.getcwd()
        os.chdir(cwd)
        try:
            status = importlib.import_module(args[1]).main(args[2:])
        finally:
            os.chdir(previous)
        printed = capsys.readouterr()
        assert status == 0, f'{command}\n{printed.out}\n{printed.err}'
        return printed.out
    assert program == 'mim', f'{PAGE.name}: unexpected command {command}'
    if args[0] == 'train':
        args += ['--cfg-options', 'train_cfg.max_epochs=1']
    result = subprocess.run([MIM, *args],
                            cwd=cwd,
                            capture_output=True,
                            text=True,
                            timeout=600,
                            env=dict(os.environ, PYTHONWARNINGS='ignore'))
    output = result.stdout + result.stderr
    assert result.returncode == 0, f'{command}\n' + failure_report(output)
    return output


def _split(path: Path) -> List[List[str]]:
    return [line.split() for line in path.read_text().splitlines()]


def test_the_page_shows_the_commands_this_test_runs() -> None:
    programs = [c[:3] for c in page_commands()]
    assert programs == [
        ['python', '-m', 'img_mmaction.synthetic.class_folders'],
        ['python', '-m', 'img_mmaction.datasets.video_folder'],
        ['mim', 'train', 'mmaction'],
        ['mim', 'test', 'mmaction'],
        ['python', '-m', 'img_mmaction.demo.infer'],
        ['python', '-m', 'img_mmaction.datasets.video_folder'],
    ]


def test_your_videos_page_end_to_end(tmp_path: Path,
                                     capsys: pytest.CaptureFixture) -> None:
    (tmp_path / 'checkpoints').mkdir()
    (tmp_path / 'checkpoints' /
     'res2net50_26w_4s-06e79181.pth').write_bytes(b'stand-in')
    commands = page_commands()
    outputs = [run(c, tmp_path, capsys) for c in commands[:2]]
    out = tmp_path / 'data' / 'my_videos'
    classes = ['approach', 'move_left', 'move_right', 'recede']
    assert (out / 'label_map.txt').read_text().split() == classes
    assert 'classes: 4 (approach, move_left, move_right, recede)' in \
        outputs[1]
    train, val = _split(out / 'train.txt'), _split(out / 'val.txt')
    # 5 videos a class, 0.2 -> 1 in val, 4 in train, every class in both.
    assert Counter(label for _, label in train) == {
        str(c): 4
        for c in range(4)
    }
    assert Counter(label for _, label in val) == {str(c): 1 for c in range(4)}
    assert not {p for p, _ in train} & {p for p, _ in val}
    for path, label in train + val:
        assert path.split('/')[0] == classes[int(label)]
        assert (tmp_path / 'my_videos' / path).is_file()
    lists = {n: (out / n).read_bytes() for n in ('train.txt', 'val.txt')}
    # Another seed draws another split.
    other = build_video_folder(
        tmp_path / 'my_videos', tmp_path / 'other', 0.2, seed=1)
    assert other.val_list.read_bytes() != lists['val.txt']

    trained = run(commands[2], tmp_path, capsys)
    # The plugin's hooks run (BrokenSampleHook counts the 16 training videos).
    assert 'epoch 1: skipped 0 broken sample(s) of 16' in trained
    assert 'Epoch(val) [1]' in trained
    work = tmp_path / 'work_dirs' / 'my_videos'
    assert sorted(p.name for p in work.glob('*.pth')) == ['epoch_1.pth']

    tested = run(commands[3], tmp_path, capsys)
    assert 'acc/top1' in tested
    dump = tmp_path / 'work_dirs' / 'my_videos_test' / 'predictions.pkl'
    with open(dump, 'rb') as handle:
        samples = pickle.load(handle)  # written by this test's own run
    assert [int(s['gt_label'].reshape(-1)[0])
            for s in samples] == [int(label) for _, label in val]
    assert all(s['pred_score'].shape == (4, ) for s in samples)

    inferred = run(commands[4], tmp_path, capsys)
    ranked = re.findall(r'^([12])\. (\w+): ([0-9.]+)$', inferred, re.M)
    assert [rank for rank, _, _ in ranked] == ['1', '2'], inferred
    assert {name for _, name, _ in ranked} < set(classes)  # the label map's

    # Res2Net-50: the same lists again (same seed), a second recipe.
    run(commands[5], tmp_path, capsys)
    assert {n: (out / n).read_bytes() for n in lists} == lists
    recipe = (out / 'img_res2net50_my_videos.py').read_text()
    weights = tmp_path / 'checkpoints' / 'res2net50_26w_4s-06e79181.pth'
    assert f"pretrained={str(weights.resolve())!r}" in recipe
