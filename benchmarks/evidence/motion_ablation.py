"""The paper's ablation variants on the motion benchmark, several seeds.

``make evidence`` (``python -m benchmarks.evidence.motion_ablation``)
runs this module (docs/evidence.md). It

1. writes (once, cached) the motion benchmark of
   :mod:`benchmarks.evidence.motion_bench`: real footage, short- and
   long-range classes, an order-blind ceiling of 3/8;
2. trains and tests, with ``mim train mmaction`` / ``mim test mmaction
   --dump``, every recipe of ``configs/evidence/`` (:data:`VARIANTS`: the
   rows of Tables 3-4 on the same tiny Res2Net and tiny ResNet, the same
   budget) once per seed (``randomness.seed``);
3. prints mean +- std (over seeds) of top-1, mean class accuracy and the
   accuracy on the short- and long-range classes, the differences that lie
   outside the seed spread, and the machine, versions, budget and wall
   time; writes ``results.json``, ``results.md`` and ``evidence.png``
   (bars with error bars; the short/long breakdown) into
   ``<out>/<tag>/``.

Every run is kept: ``<out>/work/<tag>/<variant>/seed<k>/`` holds its logs,
checkpoint, predictions and ``run.json``; a run whose ``run.json`` matches
its recipe and options is read back, not trained again (a stopped
benchmark resumes). ``--tag`` names a set of runs, e.g. one per
investigated option (``--cfg-options`` added to every training run).

Options::

    --seeds 0 1 2          seeds (randomness.seed)
    --variants IMG TSM     a subset of VARIANTS (default: all)
    --epochs N             another budget (max_epochs and the cosine)
    --cfg-options K=V ...  more options of every training run
    --tag NAME             the run set's name (default: reference)
    --jobs 2               runs at a time
    --threads 1            torch threads of each run
    --quick                1 seed, 1 epoch, TSN and IMG, 2 clips a class
"""
from __future__ import annotations
import argparse
import concurrent.futures
import contextlib
import dataclasses
import functools
import json
import operator
import os
import platform
import re
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from benchmarks.evidence import motion_bench
from img_mmaction.demo.report import confusion_matrix
from img_mmaction.demo.run import data_options
from img_mmaction.utils import config_path
from img_mmaction.utils.environment import machine, package_versions

_R2 = 'res2net-tiny_1xb8-1x1x8-8e_motion-bench-rgb.py'
_R1 = 'resnet-tiny_1xb8-1x1x8-8e_motion-bench-rgb.py'


@dataclasses.dataclass(frozen=True)
class Variant:
    """One row of the ablation.

    Args:
        name: Display name.
        backbone: ``'Res2Net'`` or ``'ResNet'`` (both tiny).
        recipe: Recipe under ``configs/``.
        paper: The paper's SthV1 top-1 of the row (%), or None.
        source: Where the paper reports it.
    """

    name: str
    backbone: str
    recipe: str
    paper: Optional[float] = None
    source: str = ''


#: The variants, in the paper's order (Table 4, then Tables 3 and 2).
VARIANTS: Tuple[Variant, ...] = (
    Variant('TSN', 'Res2Net', f'evidence/tsn_{_R2}'),
    Variant('TSM', 'Res2Net', f'evidence/tsm_{_R2}', 43.4,
            'Table 4 (TSM-RGB, ResNet50)'),
    Variant('(2+1)D', 'Res2Net', f'evidence/img-2plus1d_{_R2}', 44.0,
            'Table 4 (a); 46.2 in Table 3'),
    Variant('shift-random', 'Res2Net', f'evidence/img-shift-random_{_R2}',
            44.5, 'Table 4 (b)'),
    Variant('shift-freeze', 'Res2Net', f'evidence/img-shift-freeze_{_R2}',
            46.8, 'Table 4 (c)'),
    Variant('shift-pret', 'Res2Net', f'evidence/img-shift-pret_{_R2}', 47.6,
            'Table 4 (d)'),
    Variant('CMEM', 'Res2Net', f'evidence/img-cmem_{_R2}', 49.1,
            'Table 3 (CMEM + Res2Net)'),
    Variant('IMG', 'Res2Net', f'evidence/img_{_R2}', 49.7, 'Table 2'),
    Variant('TSN', 'ResNet', f'evidence/tsn_{_R1}'),
    Variant('TSM', 'ResNet', f'evidence/tsm_{_R1}', 43.4, 'Table 4 (TSM-RGB)'),
    Variant('(2+1)D', 'ResNet', f'evidence/img-2plus1d_{_R1}', 45.9,
            'Table 3'),
    Variant('CMEM', 'ResNet', f'evidence/img-cmem_{_R1}', 48.7, 'Table 3'),
    Variant('IMG', 'ResNet', f'evidence/img_{_R1}'),
)
#: The variants of ``--quick``.
QUICK_VARIANTS = ('Res2Net TSN', 'Res2Net IMG')
#: Pairs whose order the paper claims (lower first), compared over seeds.
PAPER_ORDER: Tuple[Tuple[str, str], ...] = (
    ('Res2Net TSN', 'Res2Net TSM'),
    ('Res2Net TSM', 'Res2Net (2+1)D'),
    ('Res2Net (2+1)D', 'Res2Net shift-random'),
    ('Res2Net shift-random', 'Res2Net shift-freeze'),
    ('Res2Net shift-freeze', 'Res2Net shift-pret'),
    ('Res2Net (2+1)D', 'Res2Net CMEM'),
    ('Res2Net CMEM', 'Res2Net IMG'),
    ('Res2Net shift-pret', 'Res2Net IMG'),
    ('Res2Net TSM', 'Res2Net IMG'),
    ('ResNet TSN', 'ResNet TSM'),
    ('ResNet (2+1)D', 'ResNet CMEM'),
    ('ResNet CMEM', 'ResNet IMG'),
    ('ResNet CMEM', 'Res2Net CMEM'),
    ('ResNet (2+1)D', 'Res2Net (2+1)D'),
    ('ResNet TSM', 'ResNet IMG'),
)


def variant_key(variant: Variant) -> str:
    """``'<backbone> <name>'``, e.g. ``'Res2Net IMG'``."""
    return f'{variant.backbone} {variant.name}'


def slug(text: str) -> str:
    """A folder name for ``text``."""
    return re.sub(r'[^a-z0-9]+', '-', text.lower()).strip('-')


def select_variants(names: Optional[Sequence[str]]) -> List[Variant]:
    """The variants named (``'Res2Net IMG'`` or a name for both backbones).

    Raises:
        ValueError: A name matches no variant.
    """
    if not names:
        return list(VARIANTS)
    chosen = []
    for name in names:
        matches = [v for v in VARIANTS if name in (variant_key(v), v.name)]
        if not matches:
            raise ValueError(f'--variants: no variant {name!r}; choose from '
                             f'{[variant_key(v) for v in VARIANTS]}')
        chosen += [v for v in matches if v not in chosen]
    return chosen


def budget_options(epochs: int) -> List[str]:
    """``--cfg-options`` for ``epochs`` epochs with the recipe's cosine."""
    return [
        f'train_cfg.max_epochs={epochs}', f'train_cfg.val_interval={epochs}',
        f'param_scheduler.1.T_max={epochs}', f'param_scheduler.1.end={epochs}'
    ]


def group_accuracies(predictions: np.ndarray,
                     labels: np.ndarray) -> Dict[str, object]:
    """Per-class accuracy, its mean over each class group, family accuracy.

    Args:
        predictions: Predicted labels [N].
        labels: True labels [N].

    Returns:
        ``per_class`` (list), ``short`` and ``long`` (mean class accuracy
        over :data:`motion_bench.CLASS_GROUPS`) and ``family`` (the
        prediction is in the true class's order-blind group).
    """
    # [true, predicted] counts: per-class accuracy is the diagonal over the
    # row sums (NaN for a class with no clip).
    matrix = confusion_matrix(predictions, labels,
                              len(motion_bench.CLASS_NAMES))
    clips = matrix.sum(axis=1)
    per_class = [
        float(matrix[c, c] / clips[c]) if clips[c] else float('nan')
        for c in range(len(clips))
    ]
    same_family = [
        motion_bench.FAMILY_OF[int(p)] == motion_bench.FAMILY_OF[int(t)]
        for p, t in zip(predictions, labels)
    ]
    result: Dict[str, object] = dict(
        per_class=per_class, family=float(np.mean(same_family)))
    for group, classes in motion_bench.CLASS_GROUPS.items():
        result[group] = float(np.nanmean([per_class[c] for c in classes]))
    return result


@contextlib.contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Sets the thread variables that the ``mim`` subprocesses inherit."""
    names = ('OMP_NUM_THREADS', 'MKL_NUM_THREADS')
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update({name: str(threads) for name in names})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_one(variant: Variant, seed: int, data: Path, work: Path,
            extra: Sequence[str]) -> Dict[str, object]:
    """Trains and tests one variant with one seed (or reads its result).

    Args:
        variant: The variant.
        seed: ``randomness.seed`` of the training run.
        data: The benchmark's dataset folder.
        work: The run's folder.
        extra: More ``--cfg-options`` of the training run.

    Returns:
        The run's record: metrics, times, options, ``cached``.
    """
    from img_mmaction.demo.mim import train_and_test
    from img_mmaction.demo.report import classification_metrics
    recipe = config_path(variant.recipe)
    train_options = data_options(data) + [f'randomness.seed={seed}', *extra]
    key = dict(
        recipe=variant.recipe,
        recipe_text=recipe.read_text(),
        train_options=train_options,
        data_meta=json.loads((data / 'meta.json').read_text()))
    record_file = work / 'run.json'
    if record_file.is_file():
        record = json.loads(record_file.read_text())
        if record.get('key') == key:
            return dict(record, cached=True)
    run = train_and_test(
        recipe,
        work,
        f'{variant_key(variant)} seed {seed}',
        train_options,
        data_options(data),
        quiet=True)
    scores, labels = run['scores'], run['labels']
    metrics = classification_metrics(scores, labels)
    record = dict(
        variant=variant_key(variant),
        seed=seed,
        key=key,
        top1=metrics['top1'],
        mean_class=metrics['mean_class'],
        **group_accuracies(scores.argmax(1), labels),
        train_s=run['train_s'],
        test_s=run['test_s'],
        finished=datetime.now(timezone.utc).isoformat(timespec='seconds'))
    record_file.write_text(json.dumps(record, indent=1))
    return dict(record, cached=False)


def summarise(runs: Sequence[Dict[str, object]],
              order: Sequence[str]) -> Dict[str, Dict[str, object]]:
    """Mean, std (ddof 1) and values over seeds of each variant's metrics."""
    summary: Dict[str, Dict[str, object]] = {}
    for name in order:
        mine = sorted((r for r in runs if r['variant'] == name),
                      key=operator.itemgetter('seed'))
        if not mine:
            continue
        row: Dict[str, object] = dict(seeds=[r['seed'] for r in mine])
        for metric in ('top1', 'mean_class', 'short', 'long', 'family'):
            values = np.array([r[metric] for r in mine], dtype=float)
            row[metric] = dict(
                mean=float(values.mean()),
                std=float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                values=values.tolist())
        row['per_class'] = np.nanmean(
            np.array([r['per_class'] for r in mine], dtype=float),
            axis=0).tolist()
        summary[name] = row
    return summary


def compare(summary: Dict[str, Dict[str, object]],
            metric: str = 'top1') -> List[Dict[str, object]]:
    """The paper's claimed orderings (:data:`PAPER_ORDER`) on ``metric``.

    A difference is *outside the seed spread* when every seed of one
    variant beats every seed of the other (their ranges do not overlap);
    Welch's t statistic is given beside it.

    Returns:
        One dict per pair present: ``lower``, ``higher`` (as the paper
        orders them), ``diff`` (higher minus lower, mean), ``holds``,
        ``separated`` and ``t``.
    """
    rows = []
    for lower, higher in PAPER_ORDER:
        if lower not in summary or higher not in summary:
            continue
        a = np.array(summary[lower][metric]['values'])
        b = np.array(summary[higher][metric]['values'])
        diff = float(b.mean() - a.mean())
        separated = bool(b.min() > a.max() or a.min() > b.max())
        spread = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)) \
            if len(a) > 1 and len(b) > 1 else float('nan')
        rows.append(
            dict(
                lower=lower,
                higher=higher,
                diff=diff,
                holds=diff > 0,
                separated=separated,
                t=float(diff / spread) if spread > 0 else float('nan')))
    return rows


def _cell(row: Dict[str, object], metric: str) -> str:
    """``mean ± std`` of one metric of a :func:`summarise` row."""
    return f"{row[metric]['mean']:.3f} ± {row[metric]['std']:.3f}"


def format_summary(summary: Dict[str, Dict[str, object]],
                   ceiling: float) -> str:
    """The results table in Markdown, mean +- std over seeds."""
    paper = {variant_key(v): v for v in VARIANTS}
    lines = [
        '| backbone | variant | seeds | top-1 | mean class | short-range | '
        'long-range | family | paper SthV1 top-1 |',
        '|---|---|---|---|---|---|---|---|---|'
    ]
    for name, row in summary.items():
        variant = paper[name]
        reference = (f'{variant.paper} ({variant.source})'
                     if variant.paper is not None else '')
        lines.append(
            f'| {variant.backbone} | {variant.name} | {len(row["seeds"])} | '
            f'{_cell(row, "top1")} | {_cell(row, "mean_class")} | '
            f'{_cell(row, "short")} | {_cell(row, "long")} | '
            f'{_cell(row, "family")} | {reference} |')
    lines.append(f'\nOrder-blind ceiling (TSN): {ceiling:.3f} top-1.')
    return '\n'.join(lines)


def format_per_class(summary: Dict[str, Dict[str, object]]) -> str:
    """Each class's accuracy (mean over seeds) as a Markdown table."""
    groups = {
        c: group
        for group, classes in motion_bench.CLASS_GROUPS.items()
        for c in classes
    }
    names = list(summary)
    lines = [
        '| class | group | ' + ' | '.join(names) + ' |',
        '|---|---|' + '---|' * len(names)
    ]
    for c, class_name in enumerate(motion_bench.CLASS_NAMES):
        cells = ' | '.join(f"{summary[n]['per_class'][c]:.2f}" for n in names)
        lines.append(f'| {c} {class_name} | {groups[c]} | {cells} |')
    return '\n'.join(lines)


def format_runs(runs: Sequence[Dict[str, object]]) -> str:
    """Every run, one row each, as a Markdown table."""
    lines = [
        '| variant | seed | top-1 | mean class | short-range | long-range | '
        'train (s) | test (s) |', '|---|---|---|---|---|---|---|---|'
    ]
    for r in runs:
        lines.append(f"| {r['variant']} | {r['seed']} | {r['top1']:.3f} | "
                     f"{r['mean_class']:.3f} | {r['short']:.3f} | "
                     f"{r['long']:.3f} | {r['train_s']:.0f} | "
                     f"{r['test_s']:.0f} |")
    return '\n'.join(lines)


def format_comparisons(rows: Sequence[Dict[str, object]]) -> str:
    """The paper's orderings as a Markdown table."""
    lines = [
        '| paper: lower < higher | difference (top-1) | holds | '
        'outside seed spread | Welch t |', '|---|---|---|---|---|'
    ]
    for row in rows:
        lines.append(f"| {row['lower']} < {row['higher']} | "
                     f"{row['diff']:+.3f} | {'yes' if row['holds'] else 'no'}"
                     f" | {'yes' if row['separated'] else 'no'} | "
                     f"{row['t']:+.1f} |")
    return '\n'.join(lines)


def plot(summary: Dict[str, Dict[str, object]], ceiling: float, title: str,
         out_png: Path) -> Path:
    """Bars with error bars: top-1 (seeds as dots), and short vs long."""
    from img_mmaction.demo.report import plt
    names = list(summary)
    x = np.arange(len(names))
    fig, axes = plt.subplots(1, 2, figsize=(14, 4.8), sharey=True)
    for ax, metrics, heading in (
        (axes[0], ('top1', ), 'top-1 (mean ± std over seeds; dots: seeds)'),
        (axes[1], ('short', 'long'), 'mean class accuracy by class group'),
    ):
        width = 0.8 / len(metrics)
        for index, metric in enumerate(metrics):
            means = [summary[n][metric]['mean'] for n in names]
            stds = [summary[n][metric]['std'] for n in names]
            offset = (index - (len(metrics) - 1) / 2) * width
            label = {
                'top1': 'top-1',
                'short': 'short-range classes',
                'long': 'long-range classes'
            }[metric]
            ax.bar(
                x + offset,
                means,
                width,
                yerr=stds,
                capsize=3,
                label=label,
                alpha=0.85)
            if metric == 'top1':
                for i, n in enumerate(names):
                    values = summary[n][metric]['values']
                    ax.plot([x[i]] * len(values), values, 'k.', ms=4)
        ax.axhline(
            ceiling,
            color='grey',
            ls='--',
            lw=1,
            label=f'order-blind ceiling {ceiling:.3f}')
        ax.set_xticks(x)
        ax.set_xticklabels(names, rotation=45, ha='right', fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(heading, fontsize=10)
        ax.legend(fontsize=8, loc='upper left')
    axes[0].set_ylabel('accuracy on the test clips')
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return out_png


def environment(threads: int, jobs: int) -> Dict[str, object]:
    """Machine, load and versions, for the record."""
    try:
        commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'],
                                capture_output=True,
                                text=True,
                                cwd=Path(__file__).resolve().parent,
                                timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return dict(
        machine=machine(),
        python=platform.python_version(),
        versions=package_versions(),
        commit=commit,
        threads_per_run=threads,
        parallel_runs=jobs,
        load_average=list(os.getloadavg()))


def budget(recipe: str, data: Path, extra: Sequence[str]) -> Dict[str, object]:
    """The budget every run shares, read from the IMG recipe and the data.

    Args:
        recipe: The IMG recipe, relative to the package's configs.
        data: The dataset folder (its ``meta.json``).
        extra: The ``--cfg-options`` every run gets (``key=value``), merged
            into the recipe as ``mim train`` merges them.

    Returns:
        Epochs, clips, batch size, segments, optimizer, frames, frame size
        and the extra options.
    """
    from mmengine.config import Config, DictAction
    cfg = Config.fromfile(str(config_path(recipe)))
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    if extra:
        cfg.merge_from_dict(
            parser.parse_args(['--cfg-options', *extra]).cfg_options)
    meta = json.loads((data / 'meta.json').read_text())
    classes = len(meta['classes'])
    return dict(
        epochs=cfg.train_cfg.max_epochs,
        train_clips=meta['videos_per_class'] * classes,
        test_clips=meta['val_per_class'] * classes,
        batch_size=cfg.train_dataloader.batch_size,
        segments=cfg.model.backbone.num_segments,
        optimizer=dict(cfg.optim_wrapper.optimizer),
        frames=meta['options']['num_frames'],
        size=meta['options']['size'],
        extra_options=list(extra))


def runs_span(runs: Sequence[Dict[str, object]]) -> float:
    """Seconds from the first run's start to the last run's end.

    Read from the records (``finished`` minus the run's own train and test
    time), so a run set read back still states how long it took to train.
    """
    finished = [datetime.fromisoformat(str(r['finished'])) for r in runs]
    started = [
        end - timedelta(seconds=float(r['train_s']) + float(r['test_s']))
        for end, r in zip(finished, runs)
    ]
    return (max(finished) - min(started)).total_seconds()


@dataclasses.dataclass
class Plan:
    """What one invocation runs.

    Args:
        tag: The run set's name.
        out: The output folder (absolute).
        variants: The variants, in table order.
        seeds: The seeds of each variant.
        extra: The ``--cfg-options`` of every training run.
        jobs: Runs at a time.
        threads: Torch threads of each run.
    """

    tag: str
    out: Path
    variants: List[Variant]
    seeds: List[int]
    extra: List[str]
    jobs: int
    threads: int

    @property
    def order(self) -> List[str]:
        """The variants' keys (:func:`variant_key`), in table order."""
        return [variant_key(v) for v in self.variants]


def build_parser() -> argparse.ArgumentParser:
    """The command line (the module docstring's options).

    Returns:
        The parser.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='evidence_output')
    parser.add_argument('--tag', default='reference')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--variants', nargs='+', default=None)
    parser.add_argument('--epochs', type=int, default=None)
    parser.add_argument('--cfg-options', nargs='+', default=[])
    parser.add_argument('--videos-per-class', type=int, default=100)
    parser.add_argument('--val-per-class', type=int, default=40)
    parser.add_argument('--jobs', type=int, default=2)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--quick', action='store_true')
    return parser


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parses the command line; ``--quick`` sets its small budget.

    Args:
        argv: Command-line arguments. Defaults to None (``sys.argv``).

    Returns:
        The arguments.

    Raises:
        ValueError: ``--jobs`` or ``--threads`` is below 1.
    """
    args = build_parser().parse_args(argv)
    if args.quick:
        args.seeds, args.epochs = args.seeds[:1], 1
        args.variants = args.variants or list(QUICK_VARIANTS)
        args.videos_per_class, args.val_per_class = 2, 1
    if args.jobs < 1 or args.threads < 1:
        raise ValueError(f'--jobs and --threads must be >= 1, got '
                         f'{args.jobs} and {args.threads}')
    return args


def make_plan(args: argparse.Namespace) -> Plan:
    """The plan of :func:`parse_args`'s arguments.

    Raises:
        ValueError: ``--variants`` names no variant.
    """
    extra = (budget_options(args.epochs) if args.epochs else []) + list(
        args.cfg_options)
    return Plan(args.tag,
                Path(args.out).resolve(), select_variants(args.variants),
                args.seeds, extra, args.jobs, args.threads)


def prepare_data(out: Path, quick: bool, videos_per_class: int,
                 val_per_class: int) -> Tuple[Path, float]:
    """Writes the motion benchmark (once; :func:`motion_bench.generate_bench`).

    Args:
        out: The output folder (the data go to ``data/`` or, with
            ``quick``, ``data-quick/``).
        quick: The ``--quick`` dataset.
        videos_per_class: Training videos per class.
        val_per_class: Test videos per class.

    Returns:
        The dataset folder and its order-blind ceiling.
    """
    data = motion_bench.generate_bench(
        out / ('data-quick' if quick else 'data'), videos_per_class,
        val_per_class)
    meta = json.loads((data / 'meta.json').read_text())
    return data, meta['order_blind_ceiling']


class RunTask:
    """One (variant, seed) run of a plan, for a thread pool.

    Records each finished run (thread-safe) and prints its progress line.

    Args:
        plan: The plan.
        data: The dataset folder.

    Attributes:
        runs: The records of the finished runs, in finishing order.
    """

    def __init__(self, plan: Plan, data: Path) -> None:
        self.plan = plan
        self.data = data
        self.total = len(plan.variants) * len(plan.seeds)
        self.runs: List[Dict[str, object]] = []
        self.lock = threading.Lock()

    def __call__(self, variant: Variant, seed: int) -> Dict[str, object]:
        """Runs (or reads back) one run; returns its record."""
        work = self.plan.out / 'work' / self.plan.tag / slug(
            variant_key(variant)) / f'seed{seed}'
        record = run_one(variant, seed, self.data, work, self.plan.extra)
        with self.lock:
            self.runs.append(record)
            print(
                f'[{len(self.runs)}/{self.total}] {variant_key(variant)} '
                f'seed {seed}: top-1 {record["top1"]:.3f}, short '
                f'{record["short"]:.3f}, long {record["long"]:.3f} ' +
                ('(read back)' if record['cached'] else
                 f'(train {record["train_s"]:.0f} s)'),
                flush=True)
        return record


def run_all(plan: Plan, data: Path) -> List[Dict[str, object]]:
    """Every variant with every seed, ``plan.jobs`` runs at a time.

    Args:
        plan: The plan.
        data: The dataset folder.

    Returns:
        The runs' records (:func:`run_one`), in finishing order.
    """
    jobs = [(v, seed) for v in plan.variants for seed in plan.seeds]
    print(
        f'{len(jobs)} runs ({len(plan.variants)} variants x '
        f'{len(plan.seeds)} seeds), {plan.jobs} at a time, {plan.threads} '
        f'thread(s) each; data {data}',
        flush=True)
    task = RunTask(plan, data)
    with torch_threads(plan.threads), \
            concurrent.futures.ThreadPoolExecutor(plan.jobs) as pool:
        for future in [pool.submit(task, v, s) for v, s in jobs]:
            future.result()
    return task.runs


def run_order(order: Sequence[str], run: Dict[str, object]) -> Tuple[int, int]:
    """The sort key of a run: its variant's place in ``order``, its seed."""
    return order.index(run['variant']), run['seed']


def make_result(plan: Plan, runs: Sequence[Dict[str, object]], data: Path,
                ceiling: float, started: str, wall_s: float,
                env_start: Dict[str, object]) -> Dict[str, object]:
    """What ``results.json`` holds: statistics, budget, environment, runs.

    Args:
        plan: The plan.
        runs: The runs' records.
        data: The dataset folder.
        ceiling: Its order-blind ceiling.
        started: When the benchmark started (UTC, ISO 8601).
        wall_s: Its wall time so far (the runs done).
        env_start: :func:`environment` at the start.

    Returns:
        ``tag``, ``started``, ``wall_s``, ``runs_s``, ``span_s``,
        ``environment``, ``budget``, ``order_blind_ceiling``, ``summary``,
        ``comparisons`` and ``runs`` (without their cache keys, in table
        order).
    """
    summary = summarise(runs, plan.order)
    return dict(
        tag=plan.tag,
        started=started,
        wall_s=wall_s,
        runs_s=sum(r['train_s'] + r['test_s'] for r in runs),
        span_s=runs_span(runs),
        environment=dict(
            start=env_start, end=environment(plan.threads, plan.jobs)),
        budget=budget(plan.variants[-1].recipe, data, plan.extra),
        order_blind_ceiling=ceiling,
        summary=summary,
        comparisons=compare(summary),
        runs=sorted(({
            k: v
            for k, v in r.items() if k != 'key'
        } for r in runs),
                    key=functools.partial(run_order, plan.order)))


def make_header(result: Dict[str, object], seeds: Sequence[int]) -> str:
    """The report's first paragraph: budget, runs, times, machine.

    Args:
        result: :func:`make_result`.
        seeds: The seeds.

    Returns:
        The paragraph.
    """
    spent, runs = result['budget'], result['runs']
    env_start, env_end = (result['environment']['start'],
                          result['environment']['end'])
    trained = [r for r in runs if not r['cached']]
    header = (f'Motion benchmark, run set "{result["tag"]}": '
              f'{spent["epochs"]} epochs, {spent["train_clips"]} training / '
              f'{spent["test_clips"]} test clips, seeds {list(seeds)}; '
              f'{len(trained)} runs trained, '
              f'{len(runs) - len(trained)} read back; wall time '
              f'{result["wall_s"] / 60:.1f} min (the runs\' own mim train + '
              f'test times add up to {result["runs_s"] / 60:.1f} min; from '
              f'the first start to the last finish '
              f'{result["span_s"] / 60:.1f} min) on {env_start["machine"]} '
              f'({env_start["parallel_runs"]} runs at a time, '
              f'{env_start["threads_per_run"]} thread each; load average '
              f'{env_start["load_average"][0]:.1f} at start, '
              f'{env_end["load_average"][0]:.1f} at end). torch '
              f'{env_start["versions"]["torch"]}, mmaction2 '
              f'{env_start["versions"]["mmaction2"]}, mmengine '
              f'{env_start["versions"]["mmengine"]}; commit '
              f'{env_start["commit"]}; {result["started"]}.')
    if spent['extra_options']:
        header += f' Options: {" ".join(spent["extra_options"])}.'
    return header


def report_text(result: Dict[str, object], seeds: Sequence[int]) -> str:
    """``results.md``: the header, the tables and every run."""
    summary = result['summary']
    return (f'{make_header(result, seeds)}\n\n'
            f'{format_summary(summary, result["order_blind_ceiling"])}\n\n'
            f'{format_comparisons(result["comparisons"])}\n\nAccuracy of '
            f'each class (mean over seeds):\n\n{format_per_class(summary)}'
            f'\n\nEvery run:\n\n{format_runs(result["runs"])}\n')


def write_outputs(result: Dict[str, object], text: str, plan: Plan) -> Path:
    """Writes ``evidence.png``, ``results.json`` and ``results.md``.

    Args:
        result: :func:`make_result`.
        text: :func:`report_text`.
        plan: The plan.

    Returns:
        The folder written, ``<out>/<tag>``.
    """
    result_dir = plan.out / plan.tag
    result_dir.mkdir(parents=True, exist_ok=True)
    plot(
        result['summary'], result['order_blind_ceiling'],
        f'Motion benchmark ({plan.tag}): {result["budget"]["epochs"]} '
        f'epochs, {len(plan.seeds)} seed(s)', result_dir / 'evidence.png')
    (result_dir / 'results.json').write_text(json.dumps(result, indent=1))
    (result_dir / 'results.md').write_text(text)
    print(f'Written: {result_dir}/results.json, results.md, evidence.png')
    return result_dir


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, object]:
    """Runs the benchmark; returns what ``results.json`` holds.

    Args:
        argv: Command-line arguments. Defaults to None (``sys.argv``).

    Returns:
        :func:`make_result`.
    """
    args = parse_args(argv)
    plan = make_plan(args)
    start = time.time()
    started = datetime.now(timezone.utc).isoformat(timespec='seconds')
    env_start = environment(plan.threads, plan.jobs)
    data, ceiling = prepare_data(plan.out, args.quick, args.videos_per_class,
                                 args.val_per_class)
    runs = run_all(plan, data)
    wall_s = time.time() - start
    result = make_result(plan, runs, data, ceiling, started, wall_s, env_start)
    text = report_text(result, plan.seeds)
    print('\n' + text)
    write_outputs(result, text, plan)
    return result


if __name__ == '__main__':
    main()
