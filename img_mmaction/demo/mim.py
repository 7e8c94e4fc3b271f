"""Trains and tests recipes through the stock ``mim`` command line.

Used by the demo and the benchmarks that report accuracies: every run is a
real ``mim train mmaction`` / ``mim test mmaction --dump`` subprocess, as a
user would type it, with the log kept and epoch progress shown.
"""
from __future__ import annotations
import os
import pickle
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

_PROGRESS = re.compile(r'Epoch\((train|val)\)\s*\[(\d+)\]\[(\d+)/(\d+)\]')


def mim_executable() -> str:
    """The ``mim`` of the running interpreter's environment."""
    return str(Path(sys.executable).with_name('mim'))


def run_mim(args: List[str],
            log_file: Path,
            label: str,
            cwd: Optional[Path] = None,
            quiet: bool = False) -> float:
    """Runs ``mim`` with its log in ``log_file``, showing epoch progress.

    Args:
        args: Arguments after ``mim``.
        log_file: Where the whole output goes.
        label: Name shown in the progress lines and errors.
        cwd: Working directory. Defaults to the current one.
        quiet: Print no progress. Defaults to False.

    Returns:
        Wall time in seconds.

    Raises:
        RuntimeError: ``mim`` failed; the message ends with its log tail.
    """
    start = time.time()
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file,
              'w') as log, subprocess.Popen([mim_executable(), *args],
                                            stdout=subprocess.PIPE,
                                            stderr=subprocess.STDOUT,
                                            text=True,
                                            env=env,
                                            cwd=cwd) as proc:
        for line in proc.stdout:
            log.write(line)
            match = _PROGRESS.search(line)
            if quiet or not match or match.group(3) != match.group(4):
                continue
            stage, epoch = match.group(1), match.group(2)
            accuracy = re.search(r'acc/top1: ([0-9.]+)', line)
            if stage == 'train':
                loss = re.search(r' loss: ([0-9.]+)', line)
                print(
                    f'  [{label}] epoch {epoch}: loss '
                    f'{loss.group(1) if loss else "?"}',
                    end='',
                    flush=True)
            elif accuracy:  # the epoch's summary line
                print(
                    f', val top-1 {accuracy.group(1)} '
                    f'({time.time() - start:.0f} s)',
                    flush=True)
    if proc.returncode != 0:
        tail = ''.join(log_file.read_text().splitlines(True)[-30:])
        raise RuntimeError(f'mim {args[0]} failed for {label}; see '
                           f'{log_file}:\n{tail}')
    return time.time() - start


def last_checkpoint(work_dir: Path) -> Path:
    """The final checkpoint of a run: no selection on any test data."""
    return Path((work_dir / 'last_checkpoint').read_text().strip())


def load_predictions(dump: Path) -> Tuple[np.ndarray, np.ndarray]:
    """Reads a ``--dump`` file that this process's ``mim test`` wrote.

    Returns:
        ``(scores [N, K], labels [N])``.
    """
    with open(dump, 'rb') as handle:
        samples = pickle.load(handle)  # our own run's output, not a download
    scores = np.stack([np.asarray(s['pred_score']) for s in samples])
    labels = np.array(
        [int(np.asarray(s['gt_label']).reshape(-1)[0]) for s in samples])
    return scores, labels


def train_and_test(config: Path,
                   work_dir: Path,
                   label: str,
                   train_options: Sequence[str],
                   test_options: Sequence[str],
                   quiet: bool = False) -> Dict[str, object]:
    """``mim train`` then ``mim test --dump`` of one recipe.

    Args:
        config: The recipe.
        work_dir: The run's folder (logs, checkpoints, predictions).
        label: Name for progress and errors.
        train_options: ``--cfg-options`` of the training run.
        test_options: ``--cfg-options`` of the test run.
        quiet: Print no progress. Defaults to False.

    Returns:
        ``scores``, ``labels``, ``train_s``, ``test_s``, ``checkpoint`` and
        ``scalars`` (the training run's ``vis_data/scalars.json``).
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    train_s = run_mim([
        'train', 'mmaction',
        str(config), '--work-dir',
        str(work_dir), '--cfg-options', *train_options
    ],
                      work_dir / 'train.log',
                      label,
                      quiet=quiet)
    checkpoint = last_checkpoint(work_dir)
    dump = work_dir / 'test_predictions.pkl'
    test_s = run_mim([
        'test', 'mmaction',
        str(config), '--checkpoint',
        str(checkpoint), '--work-dir',
        str(work_dir / 'test'), '--dump',
        str(dump), '--cfg-options', *test_options
    ],
                     work_dir / 'test.log',
                     label,
                     quiet=quiet)
    scores, labels = load_predictions(dump)
    scalars = sorted(work_dir.glob('*/vis_data/scalars.json'))[-1]
    return dict(
        scores=scores,
        labels=labels,
        train_s=train_s,
        test_s=test_s,
        checkpoint=str(checkpoint),
        scalars=scalars)
