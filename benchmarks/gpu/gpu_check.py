"""The prepared GPU check: the CUDA tests and the benchmark, one JSON + log.

``benchmarks/gpu/check.sh`` (``make gpu-check``) installs the carried wheels
into a temporary path and runs this module from there, in one device command of
at most 8 minutes (docs/gpu.md). Stages, each in a subprocess with its own
time limit taken from ``--budget-s``, the JSON rewritten after each one so
that a stage cut short still leaves the others' figures:

1. ``environment``: Python, torch, CUDA, cuDNN, the GPU, and the version
   and path of each package the wheels brought;
2. ``cuda_tests``: pytest on the CUDA test files (marker ``cuda``), with a
   JUnit report: counts, and the message of each failure;
3. ``benchmark_amp``: :mod:`.speed` on CUDA with fp16 autocast and
   channels_last, 8 clips x 8 frames at 224 for training, 1 clip for the
   inference latency, cuDNN autotuning on, and a profile of the GPU kernels
   of each model's train step; then the targets IMG/TSM <= 1.15 (train
   step and inference);
4. ``benchmark_fp32``: the same without autocast (TF32 as PyTorch sets
   it), when the budget leaves time for it.

Without CUDA (or with ``--cpu``) it runs the CPU fallback: the same
stages, the CUDA tests skip (with ``--dry-run-tests`` they run their code
on the CPU instead, ``IMG_CUDA_DRY_RUN=1``), and the benchmark runs one
small clip on the CPU. Its figures check the check; they are not GPU
figures.

Usage::

    python -m benchmarks.gpu.gpu_check --out gpu_check_out [--cpu]
"""
from __future__ import annotations
import argparse
import datetime
import importlib
import importlib.metadata
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Dict, List, Optional, Sequence, TextIO

import torch

from img_mmaction.testing.devices import DRY_RUN_ENV
from img_mmaction.utils.environment import torch_environment

REPO = Path(__file__).resolve().parents[2]
#: The CUDA test files (they skip without a GPU).
CUDA_TESTS = ('tests/models/test_cuda.py',
              'tests/engine/test_cuda_training.py')
#: Modules the carried wheels bring (import name -> distribution).
CARRIED = {
    'mmengine': 'mmengine',
    'mmcv': 'mmcv-lite',
    'mmaction': 'mmaction2',
    'decord': 'decord',
    'scipy': 'scipy',
    'PIL': 'pillow',
    'yaml': 'pyyaml',
    'pkg_resources': 'setuptools',
    'pytest': 'pytest',
}
#: The benchmark of the issue: 8 clips x 8 frames at 224, latency at 1.
GPU_BENCHMARK = ('--device', 'cuda', '--batch', '8', '--infer-batch', '1',
                 '--segments', '8', '--size', '224', '--channels-last',
                 '--cudnn-benchmark', '--warmup', '5', '--repeats', '20')
#: The CPU fallback's benchmark: small, to check the check in minutes.
CPU_BENCHMARK = ('--device', 'cpu', '--batch', '1', '--infer-batch', '1',
                 '--segments', '8', '--size', '32', '--warmup', '0',
                 '--repeats', '1')
#: The targets of the issue, IMG / TSM-R50 under AMP.
TARGETS = {'train_vs_tsm': 1.15, 'forward_vs_tsm': 1.15}
#: Most seconds each stage may take (less when the budget has less left).
STAGE_LIMITS_S = {
    'cuda_tests': 240,
    'benchmark_amp': 150,
    'benchmark_fp32': 120
}
#: A stage starts only with at least this many seconds left.
MIN_STAGE_S = 45


class Log:
    """Writes to the check's log file and to stdout."""

    def __init__(self, handle: TextIO) -> None:
        self.handle = handle

    def __call__(self, text: str) -> None:
        """Writes ``text`` and a newline to both, flushed."""
        for stream in (self.handle, sys.stdout):
            stream.write(text + '\n')
            stream.flush()


def carried_packages(site: Optional[str]) -> Dict[str, dict]:
    """Version and location of each module the wheels bring.

    Args:
        site: Where ``check.sh`` installed the wheels, or None.

    Returns:
        Import name -> ``version``, ``path`` and ``from_site`` (whether it
        was imported from ``site``), or ``error`` when it does not import
        (the check goes on; the stages that need it fail and say why).
    """
    found: Dict[str, dict] = {}
    for module, distribution in CARRIED.items():
        try:
            imported = importlib.import_module(module)
            path = Path(imported.__file__).resolve().parent
            found[module] = dict(
                version=importlib.metadata.version(distribution),
                path=str(path),
                from_site=site is not None
                and Path(site).resolve() in path.parents)
        except Exception as err:  # noqa: BLE001 (reported, not hidden)
            found[module] = dict(error=f'{type(err).__name__}: {err}')
    return found


def run_stage(name: str,
              command: List[str],
              limit_s: float,
              log: Log,
              env: Optional[Dict[str, str]] = None) -> dict:
    """Runs one stage's command, its output into the log.

    Args:
        name: The stage.
        command: The command line.
        limit_s: Seconds before it is killed.
        log: The log.
        env: Extra environment variables. Defaults to None.

    Returns:
        ``status`` (``ok``, ``failed`` or ``timeout``), ``returncode``,
        ``wall_s``, ``limit_s``, ``command``.
    """
    log(f'## {name}: {" ".join(command)} (limit {limit_s:.0f} s)')
    start = time.perf_counter()
    try:
        result = subprocess.run(
            command,
            cwd=REPO,
            env=dict(os.environ, **(env or {})),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=limit_s)
        output, returncode = result.stdout, result.returncode
        status = 'ok' if returncode == 0 else 'failed'
    except subprocess.TimeoutExpired as err:
        output = err.stdout or ''
        if isinstance(output, bytes):
            output = output.decode(errors='replace')
        returncode, status = None, 'timeout'
    wall = time.perf_counter() - start
    log(output.rstrip())
    log(f'## {name}: {status} in {wall:.1f} s')
    return dict(
        status=status,
        returncode=returncode,
        wall_s=round(wall, 1),
        limit_s=round(limit_s),
        command=' '.join(command))


def junit_summary(path: Path) -> dict:
    """Counts and failures of a pytest JUnit XML report.

    Args:
        path: The report.

    Returns:
        ``counts`` (passed, failed, errors, skipped), the ``failures``
        (test id and the first 600 characters of the message) and the
        ``skip_reasons`` (reason -> count).

    Raises:
        FileNotFoundError: pytest wrote no report.
    """
    root = ElementTree.parse(path).getroot()
    counts = dict(passed=0, failed=0, errors=0, skipped=0)
    failures: List[dict] = []
    skip_reasons: Dict[str, int] = {}
    for case in root.iter('testcase'):
        test_id = f"{case.get('classname')}::{case.get('name')}"
        outcome = 'passed'
        for child in case:
            if child.tag in ('failure', 'error'):
                outcome = 'failed' if child.tag == 'failure' else 'errors'
                failures.append(
                    dict(
                        test=test_id,
                        kind=child.tag,
                        message=(child.get('message') or '')[:600]))
            elif child.tag == 'skipped':
                outcome = 'skipped'
                reason = child.get('message') or ''
                skip_reasons[reason] = skip_reasons.get(reason, 0) + 1
        counts[outcome] += 1
    return dict(counts=counts, failures=failures, skip_reasons=skip_reasons)


def target_verdicts(results: Dict[str, dict]) -> Dict[str, dict]:
    """IMG / TSM-R50 against the targets of the issue.

    Args:
        results: The benchmark's ``results``.

    Returns:
        Per target: the ratio, the limit and whether it is met.
    """
    img = results['IMG-Res2Net50']
    return {
        key:
        dict(ratio=round(img[key], 3), limit=limit, met=img[key] <= limit)
        for key, limit in TARGETS.items()
    }


class Check:
    """The stages, their budget, the JSON and the log.

    Args:
        out: The output folder.
        cpu: Run the CPU fallback.
        budget_s: Seconds for all stages together.
        log: The log.
        report: The JSON report, filled stage by stage.
    """

    def __init__(self, out: Path, cpu: bool, budget_s: float, log: Log,
                 report: dict) -> None:
        self.out = out
        self.cpu = cpu
        self.deadline = time.perf_counter() + budget_s
        self.log = log
        self.report = report

    def save(self) -> None:
        """Writes the JSON report as it stands."""
        (self.out /
         'gpu_check.json').write_text(json.dumps(self.report, indent=2))

    def limit(self, stage: str) -> Optional[float]:
        """Seconds the stage may take, or None when too few are left.

        Args:
            stage: A key of :data:`STAGE_LIMITS_S`.

        Returns:
            The limit, or None (the stage is then skipped and says so).
        """
        left = self.deadline - time.perf_counter()
        if left < MIN_STAGE_S:
            self.report['stages'][stage] = dict(
                status='skipped', reason=f'{left:.0f} s of the budget left')
            self.log(f'## {stage}: skipped, {left:.0f} s of the budget left')
            self.save()
            return None
        return min(STAGE_LIMITS_S[stage], left)

    def cuda_tests(self, dry_run: bool = False) -> None:
        """Runs pytest on :data:`CUDA_TESTS`.

        Args:
            dry_run: Run them on the CPU (``IMG_CUDA_DRY_RUN=1``).
                Defaults to False.
        """
        limit = self.limit('cuda_tests')
        if limit is None:
            return
        junit = self.out / 'cuda_tests.xml'
        stage = run_stage(
            'cuda_tests', [
                sys.executable, '-m', 'pytest', *CUDA_TESTS, '-m', 'cuda',
                '-q', '-p', 'no:cacheprovider', f'--junitxml={junit}'
            ],
            limit,
            self.log,
            env={DRY_RUN_ENV: '1' if dry_run else '0'})
        stage['dry_run'] = dry_run
        if junit.is_file():
            stage.update(junit_summary(junit))
        self.report['stages']['cuda_tests'] = stage
        self.save()

    def benchmark(self, stage_name: str, extra: Sequence[str]) -> None:
        """Runs :mod:`.speed` with the fallback's or the GPU's settings.

        Args:
            stage_name: ``benchmark_amp`` or ``benchmark_fp32``.
            extra: More options of :mod:`.speed`.
        """
        limit = self.limit(stage_name)
        if limit is None:
            return
        result_path = self.out / f'{stage_name}.json'
        base = CPU_BENCHMARK if self.cpu else GPU_BENCHMARK
        stage = run_stage(stage_name, [
            sys.executable, '-m', 'benchmarks.speed', *base, *extra, '--json',
            str(result_path)
        ], limit, self.log)
        if result_path.is_file():
            stage['report'] = json.loads(result_path.read_text())
            if not self.cpu and '--amp' in extra:
                stage['targets'] = target_verdicts(stage['report']['results'])
        self.report['stages'][stage_name] = stage
        self.save()


def build_parser() -> argparse.ArgumentParser:
    """The command line of the check.

    Returns:
        The parser.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--out',
        default=os.environ.get('OUT') or 'gpu_check_out',
        help='output folder (default: $OUT, else gpu_check_out)')
    parser.add_argument(
        '--cpu',
        action='store_true',
        help='the CPU fallback even with a GPU (automatic without one)')
    parser.add_argument(
        '--budget-s',
        type=float,
        default=420,
        help='seconds for all stages (default: 420; the install and '
        'this leave the 8 minutes of a device command some margin)')
    parser.add_argument(
        '--dry-run-tests',
        action='store_true',
        help='CPU fallback: run the CUDA tests\' code on the CPU')
    parser.add_argument(
        '--site', default=None, help='where check.sh installed the wheels')
    return parser


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parses and checks the command line; decides on the CPU fallback.

    Args:
        argv: Command-line arguments. Defaults to None (``sys.argv``).

    Returns:
        The arguments; ``cpu`` is True with ``--cpu`` and without CUDA.

    Raises:
        SystemExit: ``--budget-s`` is not positive, or ``--dry-run-tests``
            is asked with a GPU.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.budget_s <= 0:
        parser.error(f'--budget-s must be > 0, got {args.budget_s}')
    args.cpu = args.cpu or not torch.cuda.is_available()
    if args.dry_run_tests and not args.cpu:
        parser.error('--dry-run-tests is for the CPU fallback (--cpu, or '
                     'no CUDA); with a GPU the CUDA tests run for real')
    return args


def now() -> str:
    """The local time, to the second, with its UTC offset (ISO 8601)."""
    return datetime.datetime.now().astimezone().isoformat(timespec='seconds')


def new_report(args: argparse.Namespace,
               argv: Optional[Sequence[str]] = None) -> dict:
    """The report before any stage: mode, command, environment, packages.

    Args:
        args: :func:`parse_args`.
        argv: The command-line arguments given to :func:`main` (None:
            ``sys.argv``).

    Returns:
        The report, with no stage yet.
    """
    return dict(
        mode='cpu-fallback' if args.cpu else 'cuda',
        started=now(),
        command=' '.join([sys.executable, '-m', __spec__.name] +
                         list(argv if argv is not None else sys.argv[1:])),
        site=args.site,
        environment=torch_environment(),
        packages=carried_packages(args.site),
        stages={})


def run_stages(check: Check, dry_run_tests: bool) -> None:
    """The CUDA tests, then the benchmark(s) of the fallback or the GPU.

    Args:
        check: The check (its ``cpu`` picks the benchmarks).
        dry_run_tests: Run the CUDA tests' code on the CPU.
    """
    check.cuda_tests(dry_run=dry_run_tests)
    if check.cpu:
        check.benchmark('benchmark_amp', ['--amp'])
    else:
        check.benchmark(
            'benchmark_amp',
            ['--amp', '--profile', '15', '--profile-step', 'train'])
        check.benchmark('benchmark_fp32', [])


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Runs the check; writes ``gpu_check.json`` and ``gpu_check.log``.

    Args:
        argv: Command-line arguments. Defaults to None (``sys.argv``).

    Returns:
        The report.

    Raises:
        SystemExit: ``--budget-s`` is not positive, or ``--dry-run-tests``
            is asked with a GPU.
    """
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = new_report(args, argv)
    with open(out / 'gpu_check.log', 'a') as handle:
        log = Log(handle)
        log(f"# GPU check, {report['mode']}, {report['started']}")
        log(json.dumps(report['environment']))
        log(json.dumps(report['packages']))
        check = Check(out, args.cpu, args.budget_s, log, report)
        check.save()
        run_stages(check, args.dry_run_tests)
        report['finished'] = now()
        check.save()
        statuses = {k: v['status'] for k, v in report['stages'].items()}
        log(f'# done: {json.dumps(statuses)}')
    return report


def exit_status(report: dict) -> int:
    """0 when every stage that ran passed, else 1.

    Args:
        report: The output of :func:`main`.

    Returns:
        The exit status of the command.
    """
    return int(
        any(stage['status'] in ('failed', 'timeout')
            for stage in report['stages'].values()))


if __name__ == '__main__':
    sys.exit(exit_status(main()))
