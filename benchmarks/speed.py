"""IMG vs TSM vs TSN: FLOPs, params, latency, training step, memory.

All models run in ONE process on the same input, alternating model by model
in every repetition so that drift (thermal, other load) hits them equally.

* forward: eval mode, ``torch.no_grad``, on ``--infer-batch`` clips
  (default: ``--batch``), median of ``--repeats`` after ``--warmup`` runs;
  ``--infer-batch 1`` is the inference latency of one clip;
* train step: train mode, forward + cross-entropy + backward on ``--batch``
  clips, median, and the training throughput ``--batch / step`` in clips/s.
  With ``--amp`` the forward runs under autocast (fp16 on CUDA, bf16 on
  CPU) and the backward follows it, without a GradScaler (loss scaling is
  one multiplication and does not change the timing);
* on CUDA every timed call ends with ``torch.cuda.synchronize``;
  ``--cudnn-benchmark`` lets cuDNN pick its fastest algorithms first;
* memory: on CUDA the peak memory a train step allocates above what was
  allocated before it (the models' weights and the inputs): activations,
  gradients, autocast copies and workspaces; on CPU the memory autograd
  keeps for backward in a train step, i.e. the storages of the saved
  tensors, each once, parameters excluded (the part of training memory
  that depends on the architecture; weights and gradients are
  ``params * 4`` bytes each);
* FLOPs and params: mmengine's counter on one clip (as ``mim run mmaction
  get_flops``);
* ``--variants`` adds IMG with CMEM off, with the shift off, with both
  off (plain Res2Net-50, TSN-style), and IMG with its backbone in NCHW
  (``channels_last=False``): where IMG's cost over TSM comes from;
* ``--profile N`` prints, for each model, the N operators with the most
  self time in 3 calls (torch.profiler): CPU time on the CPU, GPU kernel
  time on CUDA; of the forward, or of the train step with
  ``--profile-step train``.

Denormal floats are flushed: randomly initialised deep nets otherwise hit
denormals on CPU, which slows some models down for no architectural reason.

Usage::

    python -m benchmarks.speed          # CPU, batch 1, 2 threads
    python -m benchmarks.speed --device cuda --amp --channels-last \
        --batch 8 --infer-batch 1 --cudnn-benchmark
    python -m benchmarks.speed --batch 2 --threads 2 --json bench.json
    python -m benchmarks.speed --variants --profile 12
"""
from __future__ import annotations
import argparse
import contextlib
import dataclasses
import functools
import json
import logging
import platform
import statistics
import time
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmaction.utils import register_all_modules
from mmengine.analysis import get_model_complexity_info
from mmengine.logging import MMLogger

import img_mmaction  # noqa: F401
from img_mmaction.testing.reference_recognizers import (res2net_img, tsm_r50,
                                                        tsn_r50)
from img_mmaction.utils.environment import torch_environment

MODELS_TO_RUN: Dict[str, Callable[[int], dict]] = {
    'IMG-Res2Net50': res2net_img,
    'TSM-R50': tsm_r50,
    'TSN-R50': tsn_r50,
}
#: IMG with its modules switched off, for ``--variants``.
VARIANTS: Dict[str, Callable[[int], dict]] = {
    'IMG w/o CMEM':
    functools.partial(res2net_img, with_cmem=False),
    'IMG w/o shift':
    functools.partial(res2net_img, temporal_cfg=None),
    'Res2Net50 (no IMG modules)':
    functools.partial(res2net_img, with_cmem=False, temporal_cfg=None),
    'IMG, NCHW backbone':
    functools.partial(res2net_img, channels_last=False),
}


@contextlib.contextmanager
def quiet_mmengine() -> Iterator[None]:
    """Silences mmengine's current logger below ERROR while inside.

    ``init_weights`` logs every parameter and the FLOP counter every
    uncounted operator; the benchmark's output should stay a table.
    """
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def place(model: torch.nn.Module, device: torch.device,
          channels_last: bool) -> torch.nn.Module:
    """Moves a model to ``device``, in channels_last if asked.

    Without ``channels_last`` the model keeps the layout it was built with
    (Res2NetIMG: channels_last; MMAction2's models: NCHW):
    ``.to(memory_format=torch.contiguous_format)`` would convert it.

    Args:
        model: The model.
        device: Where to run it.
        channels_last: Convert the 4-D weights to channels_last.

    Returns:
        The model.
    """
    model = model.to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model


class SavedStorages:
    """A pack hook of ``torch.autograd.graph.saved_tensors_hooks``.

    Records the size of each storage that a saved tensor points to, once
    and whole (a saved view keeps its whole storage alive), except the
    model's parameters (they live anyway).

    Args:
        model: The model, whose parameters are excluded.

    Attributes:
        nbytes: Bytes of each recorded storage, by its data pointer.
    """

    def __init__(self, model: torch.nn.Module) -> None:
        self.params = {
            p.untyped_storage().data_ptr()
            for p in model.parameters()
        }
        self.nbytes: Dict[int, int] = {}

    def pack(self, tensor: torch.Tensor) -> torch.Tensor:
        """Records the storage of ``tensor``; returns ``tensor`` itself."""
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in self.params:
            self.nbytes[storage.data_ptr()] = storage.nbytes()
        return tensor

    @staticmethod
    def unpack(tensor: torch.Tensor) -> torch.Tensor:
        """The saved tensor, as it was packed."""
        return tensor


def saved_activation_bytes(step: Callable[[], None],
                           model: torch.nn.Module) -> int:
    """Bytes of memory that autograd keeps alive for backward in ``step``.

    Each storage the saved tensors point to counts once and whole (a saved
    view keeps its whole storage alive); the model's parameters do not
    count (they live anyway).

    Args:
        step: One training step (forward and backward).
        model: The model, whose parameters are excluded.

    Returns:
        The bytes of the saved storages.
    """
    saved = SavedStorages(model)
    with torch.autograd.graph.saved_tensors_hooks(saved.pack, saved.unpack):
        step()
    return sum(saved.nbytes.values())


def top_ops(fn: Callable[[], None],
            rows: int,
            runs: int = 3,
            device: Optional[torch.device] = None) -> str:
    """Profiles ``runs`` calls of ``fn`` with torch.profiler.

    Args:
        fn: The call to profile.
        rows: Operators listed.
        runs: Calls profiled. Defaults to 3.
        device: Where ``fn`` runs; on CUDA the GPU kernels are recorded
            too and sorted by their own GPU time. Defaults to None (CPU).

    Returns:
        The table of the ``rows`` operators with the most self time.
    """
    from torch.profiler import ProfilerActivity, profile
    on_cuda = device is not None and device.type == 'cuda'
    activities = [ProfilerActivity.CPU]
    if on_cuda:
        activities.append(ProfilerActivity.CUDA)
    with profile(activities=activities) as prof:
        for _ in range(runs):
            fn()
        if on_cuda:
            torch.cuda.synchronize()
    return prof.key_averages().table(
        sort_by='self_device_time_total' if on_cuda else 'self_cpu_time_total',
        row_limit=rows,
        max_name_column_width=36)


@dataclasses.dataclass
class Workload:
    """The inputs every model runs on, and where.

    Args:
        device: Where the models run.
        clips: The training batch [batch, segments, 3, size, size].
        infer_clips: The forward's batch [infer_batch, segments, 3, size,
            size].
        labels: The training labels [batch].
        autocast: The autocast context of both steps (disabled without
            ``--amp``).
    """

    device: torch.device
    clips: torch.Tensor
    infer_clips: torch.Tensor
    labels: torch.Tensor
    autocast: torch.autocast


def check_args(args: argparse.Namespace) -> None:
    """Fills in ``--infer-batch`` (default: ``--batch``) and checks sizes.

    Args:
        args: The parsed command line; ``infer_batch`` is set in place.

    Raises:
        ValueError: A size, count or thread number is below 1 (warm-up
            below 0).
    """
    if args.infer_batch is None:
        args.infer_batch = args.batch
    for name in ('batch', 'infer_batch', 'segments', 'size', 'threads',
                 'repeats'):
        if getattr(args, name) < 1:
            flag = name.replace('_', '-')
            raise ValueError(f'--{flag} must be >= 1, got '
                             f'{getattr(args, name)}')
    if args.warmup < 0:
        raise ValueError(f'--warmup must be >= 0, got {args.warmup}')


def set_up(args: argparse.Namespace) -> torch.device:
    """Registers the modules, seeds torch and sets threads and flags.

    Args:
        args: The parsed command line.

    Returns:
        The device of ``--device``.
    """
    register_all_modules()
    torch.manual_seed(0)
    device = torch.device(args.device)
    if device.type == 'cpu':
        torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    if device.type == 'cuda':
        torch.backends.cudnn.benchmark = args.cudnn_benchmark
    return device


def make_workload(args: argparse.Namespace, device: torch.device) -> Workload:
    """Random clips and labels of the command line's shapes, on ``device``.

    Args:
        args: The parsed command line, after :func:`check_args`.
        device: Where the models run.

    Returns:
        The workload.
    """
    shape = (args.batch, args.segments, 3, args.size, args.size)
    clips = torch.randn(shape, device=device)
    infer_clips = torch.randn((args.infer_batch, ) + shape[1:], device=device)
    labels = torch.randint(0, 174, (args.batch, ), device=device)
    autocast = torch.autocast(
        device.type,
        dtype=torch.bfloat16 if device.type == 'cpu' else torch.float16,
        enabled=args.amp)
    return Workload(device, clips, infer_clips, labels, autocast)


def build_models(
    args: argparse.Namespace, device: torch.device
) -> Tuple[Dict[str, torch.nn.Module], Dict[str, Dict[str, float]]]:
    """Builds every model, counts its FLOPs and params, places it.

    Args:
        args: The parsed command line (``--variants`` adds
            :data:`VARIANTS`).
        device: Where the models run.

    Returns:
        The models by name, and per model a row with ``gflops`` and
        ``mparams`` (mmengine's counter on one clip).
    """
    to_run = dict(MODELS_TO_RUN)
    if args.variants:
        to_run.update(VARIANTS)
    clip_shape = (args.segments, 3, args.size, args.size)
    models: Dict[str, torch.nn.Module] = {}
    results: Dict[str, Dict[str, float]] = {}
    for name, build in to_run.items():
        model = MODELS.build(build(args.segments))
        with quiet_mmengine(), torch.no_grad():
            model.init_weights()
            info = get_model_complexity_info(
                model.eval(),
                input_shape=clip_shape,
                show_table=False,
                show_arch=False)
        results[name] = dict(
            gflops=info['flops'] / 1e9, mparams=info['params'] / 1e6)
        models[name] = place(model, device, args.channels_last)
    return models, results


def forward(model: torch.nn.Module, work: Workload) -> None:
    """One inference forward: eval mode, no gradients, ``infer_clips``."""
    model.eval()
    with torch.no_grad(), work.autocast:
        model.extract_feat(work.infer_clips, stage='head')


def train_step(model: torch.nn.Module, work: Workload) -> None:
    """One training step: forward, cross-entropy and backward on ``clips``.

    The gradients are dropped afterwards (no optimizer step).
    """
    model.train()
    with work.autocast:
        # backbone + head: class scores [batch, 174]
        scores, _ = model.extract_feat(work.clips, stage='head')
    F.cross_entropy(scores.float(), work.labels).backward()
    model.zero_grad(set_to_none=True)


#: The steps that ``--profile-step`` names.
STEPS: Dict[str, Callable[[torch.nn.Module, Workload], None]] = {
    'forward': forward,
    'train': train_step,
}


def timed(call: Callable[[], None], device: torch.device) -> float:
    """Seconds of one ``call``, synchronised before and after on CUDA."""
    if device.type == 'cuda':
        torch.cuda.synchronize()
    start = time.perf_counter()
    call()
    if device.type == 'cuda':
        torch.cuda.synchronize()
    return time.perf_counter() - start


def time_steps(models: Dict[str, torch.nn.Module], work: Workload, warmup: int,
               repeats: int) -> Dict[str, Dict[str, List[float]]]:
    """Times both steps of every model, alternating model by model.

    Args:
        models: The models by name.
        work: Their inputs.
        warmup: Untimed rounds first (each model: a forward, a train step).
        repeats: Timed rounds.

    Returns:
        Per model, the seconds of each ``forward`` and each ``train``
        step, one per round.
    """
    samples: Dict[str, Dict[str, List[float]]] = {
        name: {
            'forward': [],
            'train': []
        }
        for name in models
    }
    for _ in range(warmup):
        for model in models.values():
            forward(model, work)
            train_step(model, work)
    for _ in range(repeats):
        for name, model in models.items():
            samples[name]['forward'].append(
                timed(functools.partial(forward, model, work), work.device))
            samples[name]['train'].append(
                timed(functools.partial(train_step, model, work), work.device))
    return samples


def timing_row(samples: Dict[str, List[float]], infer_batch: int,
               batch: int) -> Dict[str, float]:
    """Medians and training throughput of one model's :func:`time_steps`.

    Args:
        samples: The model's ``forward`` and ``train`` seconds.
        infer_batch: Clips per forward.
        batch: Clips per train step.

    Returns:
        ``forward_s``, ``forward_batch``, ``train_step_s``,
        ``train_batch`` and ``train_clips_per_s``.
    """
    train_step_s = statistics.median(samples['train'])
    return dict(
        forward_s=statistics.median(samples['forward']),
        forward_batch=infer_batch,
        train_step_s=train_step_s,
        train_batch=batch,
        train_clips_per_s=batch / train_step_s)


def memory_row(model: torch.nn.Module, work: Workload) -> Dict[str, float]:
    """The memory of one train step (see the module docstring).

    Args:
        model: The model.
        work: Its inputs.

    Returns:
        ``peak_mem_mib`` on CUDA (peak allocated above what was allocated
        before the step), else ``saved_act_mib`` (what autograd keeps for
        backward).
    """
    device = work.device
    if device.type == 'cuda':
        torch.cuda.synchronize()
        resident = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        train_step(model, work)
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated(device)
        return dict(peak_mem_mib=(peak - resident) / 2**20)
    step = functools.partial(train_step, model, work)
    return dict(saved_act_mib=saved_activation_bytes(step, model) / 2**20)


def print_profiles(models: Dict[str, torch.nn.Module], work: Workload,
                   rows: int, step_name: str) -> None:
    """Prints each model's top operators in 3 calls of one step.

    Args:
        models: The models by name.
        work: Their inputs.
        rows: Operators listed per model.
        step_name: A key of :data:`STEPS`.
    """
    kind = 'GPU kernel' if work.device.type == 'cuda' else 'CPU'
    for name, model in models.items():
        print(f'## {name}: top {rows} operators by self {kind} '
              f'time, 3 calls of the {step_name} step')
        step = functools.partial(STEPS[step_name], model, work)
        print(top_ops(step, rows, device=work.device))


def add_ratios(results: Dict[str, Dict[str, float]]) -> None:
    """Adds ``forward_vs_tsm`` and ``train_vs_tsm`` to every row, in place.

    Args:
        results: Rows with ``forward_s`` and ``train_step_s``, one of them
            ``'TSM-R50'``.
    """
    reference = results['TSM-R50']
    for row in results.values():
        row['forward_vs_tsm'] = row['forward_s'] / reference['forward_s']
        row['train_vs_tsm'] = row['train_step_s'] / reference['train_step_s']


def measure(args: argparse.Namespace) -> Dict[str, Dict[str, float]]:
    """Runs the benchmark: builds, times, measures memory, profiles.

    Args:
        args: The parsed command line (see :func:`build_parser`);
            ``infer_batch`` is filled in.

    Returns:
        Per model: ``gflops``, ``mparams``, ``forward_s`` (on
        ``forward_batch`` clips), ``train_step_s`` (on ``train_batch``
        clips), ``train_clips_per_s``, ``peak_mem_mib`` (CUDA) or
        ``saved_act_mib`` (CPU), and the ratios ``forward_vs_tsm``,
        ``train_vs_tsm``.

    Raises:
        ValueError: A size, count or thread number is below 1 (warm-up
            below 0).
    """
    check_args(args)
    device = set_up(args)
    work = make_workload(args, device)
    models, results = build_models(args, device)
    samples = time_steps(models, work, args.warmup, args.repeats)
    for name, model in models.items():
        results[name].update(
            timing_row(samples[name], args.infer_batch, args.batch))
        results[name].update(memory_row(model, work))
    if args.profile:
        print_profiles(models, work, args.profile, args.profile_step)
    add_ratios(results)
    return results


def format_table(results: Dict[str, Dict[str, float]]) -> str:
    """Formats the results.

    Args:
        results: The output of :func:`measure`.

    Returns:
        A Markdown table, one row per model.
    """
    memory_key = next(
        k for k in ('peak_mem_mib', 'saved_act_mib')
        if k in next(iter(results.values())))
    memory_name = ('peak memory (MiB)' if memory_key == 'peak_mem_mib' else
                   'saved activations (MiB)')
    lines = [
        f'| model | GFLOPs | params (M) | forward (s) | train step (s) '
        f'| train clips/s | {memory_name} | forward / TSM | train / TSM |',
        '|---|---|---|---|---|---|---|---|---|'
    ]
    for name, r in results.items():
        lines.append(f"| {name} | {r['gflops']:.2f} | {r['mparams']:.2f} | "
                     f"{r['forward_s']:.4f} | {r['train_step_s']:.4f} | "
                     f"{r['train_clips_per_s']:.2f} | {r[memory_key]:.0f} | "
                     f"{r['forward_vs_tsm']:.3f} | {r['train_vs_tsm']:.3f} |")
    return '\n'.join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The command line of the benchmark.

    Returns:
        The parser.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--batch',
        type=int,
        default=1,
        help='clips per training batch (each of --segments frames)')
    parser.add_argument(
        '--infer-batch',
        type=int,
        default=None,
        help='clips per forward (default: --batch; 1 for the latency)')
    parser.add_argument('--segments', type=int, default=8)
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=7)
    parser.add_argument(
        '--amp',
        action='store_true',
        help='autocast (fp16 on CUDA, bf16 on CPU)')
    parser.add_argument('--channels-last', action='store_true')
    parser.add_argument(
        '--cudnn-benchmark',
        action='store_true',
        help='torch.backends.cudnn.benchmark (CUDA only)')
    parser.add_argument(
        '--variants',
        action='store_true',
        help='also IMG without CMEM / shift / both')
    parser.add_argument(
        '--profile',
        type=int,
        default=0,
        metavar='N',
        help='print the top N operators of each model')
    parser.add_argument(
        '--profile-step',
        choices=('forward', 'train'),
        default='forward',
        help='what --profile records (default: forward)')
    parser.add_argument('--json', default=None, help='also write JSON here')
    return parser


def title(args: argparse.Namespace) -> str:
    """The line that heads the table: shapes, device, precision, versions.

    Args:
        args: The parsed command line, after :func:`measure`.

    Returns:
        The line.
    """
    clip = f'{args.segments}x3x{args.size}x{args.size}'
    return (f'# train {args.batch}x{clip}, forward {args.infer_batch}x{clip}'
            f', {args.device}, {args.threads} threads, amp={args.amp}, '
            f'channels_last={args.channels_last}, torch {torch.__version__}, '
            f'{platform.machine()}')


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, dict]:
    """Parses the command line, measures, prints the table, writes JSON.

    Args:
        argv: Command-line arguments. Defaults to None (``sys.argv``).

    Returns:
        The report: ``args``, ``environment`` and ``results``.
    """
    args = build_parser().parse_args(argv)
    results = measure(args)
    print(title(args))
    print(format_table(results))
    report = dict(
        args=vars(args),
        environment=torch_environment(torch.device(args.device)),
        results=results)
    if args.json:
        with open(args.json, 'w') as handle:
            json.dump(report, handle, indent=2)
    return report


if __name__ == '__main__':
    main()
