"""How often a 2-process gloo job aborts at exit, with and without the fix.

mmengine never calls ``torch.distributed.destroy_process_group``. With torch
2.13 a gloo worker thread can then drop its last tensor reference while the
interpreter finalizes, and the process dies with ``terminate called without
an active exception`` (SIGABRT) after all its work is done
(pytorch/pytorch#190489). ``img_mmaction.compat`` (fix 6) destroys the group
from an ``atexit`` handler.

This script launches ``--runs`` jobs of two CPU processes with
``python -m torch.distributed.run``. Each process imports the plugin, starts
the group through mmengine's ``init_dist`` and makes the collectives mmengine's
evaluator makes (object broadcasts and gathers, tensor all-reduces), then
exits. The jobs run once with the fix as installed (``with teardown``) and
once with its ``atexit`` handler unregistered (``without teardown``), and the
script prints how many jobs of each failed. The abort is a race, so the
``without`` count varies from run to run.

Usage::

    python tools/dist_exit_check.py [--runs 40] [--port 26500]
        [--only with|without] [--log-dir DIR]
"""
from __future__ import annotations

import argparse
import atexit
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, Optional, Sequence

#: Collective rounds per job; each is a broadcast_object_list + all_reduce.
ROUNDS = 20
ABORT_MESSAGE = 'terminate called'


def worker(teardown: bool) -> None:
    """One process of a job: init through mmengine, collectives, exit."""
    import torch
    from mmengine.dist import (all_gather_object, broadcast_object_list,
                               get_rank, init_dist)

    from img_mmaction import compat
    if not teardown:
        atexit.unregister(compat.destroy_process_group_at_exit)
    init_dist('pytorch', backend='gloo')
    payload = [{'scores': list(range(1000))}] if get_rank() == 0 else [None]
    for _ in range(ROUNDS):
        broadcast_object_list(payload, 0)
        torch.distributed.all_reduce(torch.ones(1000))
    all_gather_object({'rank': get_rank()})


def run_job(teardown: bool, port: int) -> subprocess.CompletedProcess:
    """Launches one 2-process job of :func:`worker`."""
    command = [sys.executable, '-W', 'ignore', '-m', 'torch.distributed.run',
               '--nproc_per_node=2', f'--master_port={port}', __file__,
               '--worker', 'with' if teardown else 'without']
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    return subprocess.run(command, capture_output=True, text=True, env=env,
                          timeout=300)


def count_failures(runs: int, port: int,
                   settings: Sequence[bool] = (True, False),
                   log_dir: Optional[Path] = None
                   ) -> Dict[str, Dict[str, int]]:
    """Runs ``runs`` jobs per setting.

    Args:
        runs: Jobs per setting.
        port: First master port; job ``i`` of a setting uses ``port + i``
            (the next setting starts after the previous one's ports).
        settings: Which settings to run: ``True`` with the teardown,
            ``False`` without it.
        log_dir: If given, the output of each failed job is written there.

    Returns:
        ``{'with teardown' | 'without teardown': {'failed': n,
        'aborted': m}}``; ``aborted`` counts failed jobs whose output shows
        the C++ ``terminate`` message.
    """
    if runs < 1:
        raise ValueError(f'--runs must be >= 1, got {runs}')
    counts = {}
    for offset, teardown in enumerate(settings):
        name = 'with teardown' if teardown else 'without teardown'
        failed = aborted = 0
        for index in range(runs):
            result = run_job(teardown, port + offset * runs + index)
            if result.returncode == 0:
                continue
            output = result.stdout + result.stderr
            failed += 1
            aborted += ABORT_MESSAGE in output
            if log_dir is not None:
                log_dir.mkdir(parents=True, exist_ok=True)
                log = log_dir / f"{name.replace(' ', '_')}_{index}.log"
                log.write_text(output)
        counts[name] = {'failed': failed, 'aborted': aborted}
    return counts


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Dict[str, int]]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=40)
    parser.add_argument('--port', type=int, default=26500)
    parser.add_argument('--only', choices=('with', 'without'),
                        help='run one setting only')
    parser.add_argument('--log-dir', type=Path, default=None,
                        help='folder for the output of failed jobs')
    parser.add_argument('--worker', choices=('with', 'without'),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(teardown=args.worker == 'with')
        return {}
    settings = {None: (True, False), 'with': (True,), 'without': (False,)}
    counts = count_failures(args.runs, args.port, settings[args.only],
                            args.log_dir)
    print('| setting | jobs | failed | of which aborted at exit |')
    print('|---|---|---|---|')
    for name, count in counts.items():
        print(f"| {name} | {args.runs} | {count['failed']} | "
              f"{count['aborted']} |")
    return counts


if __name__ == '__main__':
    main()
