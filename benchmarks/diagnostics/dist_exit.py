"""How often a 2-process gloo job aborts at exit, with and without the fix.

mmengine never calls ``torch.distributed.destroy_process_group``. With torch
2.13 a gloo worker thread can then drop its last tensor reference while the
interpreter finalizes, and the process dies with ``terminate called without
an active exception`` (SIGABRT) after all its work is done
(pytorch/pytorch#190489). ``img_mmaction.compat`` (fix 6) destroys the group
from an ``atexit`` handler and then collects garbage, which frees the DDP
wrapper that still holds the group and so joins its threads.

This script launches ``--runs`` jobs of two CPU processes with
``python -m torch.distributed.run`` per setting and prints how many jobs of
each failed. The settings (``--only`` picks one):

- ``with``: the fix as installed;
- ``without``: its ``atexit`` handler unregistered;
- ``destroy-only``: a handler that only calls ``destroy_process_group``
  (fix 6 as it was before it collected garbage).

Two kinds of job:

- ``--job train`` (default): MMAction2's own ``tools/train.py`` (what ``mim
  train --launcher pytorch`` runs) trains and validates the tiny TSM recipe
  of the end-to-end tests (``img_mmaction.testing.TINY_TSM_CONFIG``) for one
  epoch on six generated mp4s.
- ``--job collectives``: each process starts the group through mmengine's
  ``init_dist``, makes the collectives mmengine's evaluator makes (object
  broadcasts and gathers, tensor all-reduces) and exits; no DDP wrapper.

The abort is a race, so the ``without`` count varies from run to run.

Usage::

    python -m benchmarks.diagnostics.dist_exit [--job train|collectives]
        [--runs 40] [--port 26500] [--only with|without|destroy-only]
        [--log-dir DIR]
"""
from __future__ import annotations
import argparse
import atexit
import os
import runpy
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, Optional, Sequence

from img_mmaction.testing import TINY_TSM_CONFIG

#: Collective rounds per collectives job; each is a broadcast_object_list +
#: all_reduce.
ROUNDS = 20
ABORT_MESSAGE = 'terminate called'
JOBS = ('train', 'collectives')
#: The recipe of the train job: the tiny TSM recipe of the e2e tests.
TRAIN_CONFIG = TINY_TSM_CONFIG
#: The checkout that holds ``benchmarks/``.
LAB_ROOT = Path(__file__).resolve().parents[2]


def train_script() -> Path:
    """MMAction2's ``tools/train.py``, as installed for ``mim``."""
    import mmaction
    return Path(mmaction.__file__).parent / '.mim' / 'tools' / 'train.py'


#: Setting name -> the row label printed for it.
SETTINGS = {
    'with': 'with teardown',
    'without': 'without teardown',
    'destroy-only': 'destroy only'
}


def worker(setting: str, job: str) -> None:
    """One process of a job, with the exit handler of ``setting``."""
    from img_mmaction import compat
    if setting != 'with':
        atexit.unregister(compat.destroy_process_group_at_exit)
    if setting == 'destroy-only':
        import torch.distributed
        atexit.register(torch.distributed.destroy_process_group)
    if job == 'train':
        # The recipe imports the plugin again through custom_imports; the
        # module is cached, so the handler is not registered a second time.
        script = str(train_script())
        sys.argv = [
            script,
            str(TRAIN_CONFIG), '--launcher', 'pytorch', '--work-dir', 'work'
        ]
        runpy.run_path(script, run_name='__main__')
        return
    import torch
    from mmengine.dist import (all_gather_object, broadcast_object_list,
                               get_rank, init_dist)
    init_dist('pytorch', backend='gloo')
    payload = [{'scores': list(range(1000))}] if get_rank() == 0 else [None]
    for _ in range(ROUNDS):
        broadcast_object_list(payload, 0)
        torch.distributed.all_reduce(torch.ones(1000))
    all_gather_object({'rank': get_rank()})


def run_job(setting: str, port: int, job: str,
            workspace: Path) -> subprocess.CompletedProcess:
    """Launches one 2-process job of :func:`worker` in ``workspace``."""
    command = [
        sys.executable, '-W', 'ignore', '-m', 'torch.distributed.run',
        '--nproc_per_node=2', f'--master_port={port}', '-m', __name__,
        '--worker', setting, '--job', job
    ]
    # The workers run this module from the workspace: the lab is not
    # installed, so its checkout goes on the path.
    path = os.pathsep.join(
        filter(None,
               [str(LAB_ROOT), os.environ.get('PYTHONPATH')]))
    env = dict(os.environ, PYTHONWARNINGS='ignore', PYTHONPATH=path)
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=env,
        cwd=workspace,
        timeout=600)


def count_failures(runs: int,
                   port: int,
                   settings: Sequence[str] = ('with', 'without'),
                   log_dir: Optional[Path] = None,
                   job: str = 'train') -> Dict[str, Dict[str, int]]:
    """Runs ``runs`` jobs per setting.

    Args:
        runs: Jobs per setting.
        port: First master port; job ``i`` of a setting uses ``port + i``
            (the next setting starts after the previous one's ports).
        settings: Which settings to run (keys of :data:`SETTINGS`).
        log_dir: If given, the output of each failed job is written there.
        job: ``'train'`` or ``'collectives'`` (see the module docstring).

    Returns:
        ``{row label: {'failed': n, 'aborted': m}}`` in the order of
        ``settings``, labels from :data:`SETTINGS`; ``aborted`` counts failed
        jobs whose output shows the C++ ``terminate`` message.
    """
    if runs < 1:
        raise ValueError(f'--runs must be >= 1, got {runs}')
    if job not in JOBS:
        raise ValueError(f'--job must be one of {JOBS}, got {job!r}')
    unknown = [setting for setting in settings if setting not in SETTINGS]
    if unknown:
        raise ValueError(f'unknown settings {unknown}; choose from '
                         f'{list(SETTINGS)}')
    with tempfile.TemporaryDirectory(prefix='dist_exit_check_') as tmp:
        workspace = Path(tmp)
        if job == 'train':
            from img_mmaction.testing import make_video_dataset
            make_video_dataset(workspace / 'data', num_videos=6, num_classes=2)
        return _count_in(workspace, runs, port, settings, log_dir, job)


def _count_in(workspace: Path, runs: int, port: int, settings: Sequence[str],
              log_dir: Optional[Path], job: str) -> Dict[str, Dict[str, int]]:
    """:func:`count_failures` with its workspace made."""
    counts = {}
    for offset, setting in enumerate(settings):
        name = SETTINGS[setting]
        failed = aborted = 0
        for index in range(runs):
            result = run_job(setting, port + offset * runs + index, job,
                             workspace)
            if result.returncode == 0:
                continue
            output = result.stdout + result.stderr
            failed += 1
            aborted += ABORT_MESSAGE in output
            if log_dir is not None:
                log_dir.mkdir(parents=True, exist_ok=True)
                log = log_dir / f"{setting}_{index}.log"
                log.write_text(output)
        counts[name] = {'failed': failed, 'aborted': aborted}
    return counts


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Dict[str, int]]:
    """Runs the jobs and prints the counts (or, with ``--worker``, is one
    process of a job).

    Args:
        argv: Command-line arguments. Defaults to None (``sys.argv``).

    Returns:
        :func:`count_failures`' counts; empty in a worker.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=40)
    parser.add_argument('--port', type=int, default=26500)
    parser.add_argument(
        '--only',
        choices=tuple(SETTINGS),
        help='run one setting only (default: with, then '
        'without)')
    parser.add_argument(
        '--log-dir',
        type=Path,
        default=None,
        help='folder for the output of failed jobs')
    parser.add_argument(
        '--job',
        choices=JOBS,
        default='train',
        help='what each job runs (default: train)')
    parser.add_argument(
        '--worker', choices=tuple(SETTINGS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(setting=args.worker, job=args.job)
        return {}
    settings = ('with', 'without') if args.only is None else (args.only, )
    counts = count_failures(args.runs, args.port, settings, args.log_dir,
                            args.job)
    print(f'job: {args.job}')
    print('| setting | jobs | failed | of which aborted at exit |')
    print('|---|---|---|---|')
    for name, count in counts.items():
        print(f"| {name} | {args.runs} | {count['failed']} | "
              f"{count['aborted']} |")
    return counts


if __name__ == '__main__':
    main()
