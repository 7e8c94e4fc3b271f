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
denormals on CPU and some models slow down five-fold for no architectural
reason.

Usage::

    python benchmarks/speed.py          # CPU, batch 1, 2 threads
    python benchmarks/speed.py --device cuda --amp --channels-last \
        --batch 8 --infer-batch 1 --cudnn-benchmark
    python benchmarks/speed.py --batch 2 --threads 2 --json bench.json
    python benchmarks/speed.py --variants --profile 12
"""
from __future__ import annotations
import argparse
import contextlib
import functools
import json
import logging
import platform
import statistics
import time
from typing import Callable, Dict, Iterator, List, Optional, Sequence

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
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    storages: Dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in params:
            storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        step()
    return sum(storages.values())


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


def measure(args: argparse.Namespace) -> Dict[str, Dict[str, float]]:
    """Runs the benchmark.

    Args:
        args: The parsed command line (see :func:`main`).

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
    register_all_modules()
    torch.manual_seed(0)
    device = torch.device(args.device)
    if device.type == 'cpu':
        torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    if device.type == 'cuda':
        torch.backends.cudnn.benchmark = args.cudnn_benchmark
    shape = (args.batch, args.segments, 3, args.size, args.size)
    inputs = torch.randn(shape, device=device)
    infer_inputs = torch.randn((args.infer_batch, ) + shape[1:], device=device)
    labels = torch.randint(0, 174, (args.batch, ), device=device)
    autocast = torch.autocast(
        device.type,
        dtype=torch.bfloat16 if device.type == 'cpu' else torch.float16,
        enabled=args.amp)

    to_run = dict(MODELS_TO_RUN)
    if args.variants:
        to_run.update(VARIANTS)
    models = {}
    results: Dict[str, Dict[str, float]] = {}
    for name, build in to_run.items():
        model = MODELS.build(build(args.segments))
        with quiet_mmengine(), torch.no_grad():
            model.init_weights()
            info = get_model_complexity_info(
                model.eval(),
                input_shape=tuple(shape[1:]),
                show_table=False,
                show_arch=False)
        results[name] = dict(
            gflops=info['flops'] / 1e9, mparams=info['params'] / 1e6)
        models[name] = place(model, device, args.channels_last)

    def forward(model: torch.nn.Module) -> None:
        model.eval()
        with torch.no_grad(), autocast:
            model.extract_feat(infer_inputs, stage='head')

    def train_step(model: torch.nn.Module) -> None:
        model.train()
        with autocast:
            # backbone + head: class scores [batch, 174]
            scores, _ = model.extract_feat(inputs, stage='head')
        F.cross_entropy(scores.float(), labels).backward()
        model.zero_grad(set_to_none=True)

    def timed(fn: Callable[[], None]) -> float:
        if device.type == 'cuda':
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == 'cuda':
            torch.cuda.synchronize()
        return time.perf_counter() - start

    samples: Dict[str, Dict[str, List[float]]] = {
        name: {
            'forward': [],
            'train': []
        }
        for name in models
    }
    for _ in range(args.warmup):
        for model in models.values():
            forward(model)
            train_step(model)
    for _ in range(args.repeats):
        for name, model in models.items():
            samples[name]['forward'].append(timed(lambda: forward(model)))
            samples[name]['train'].append(timed(lambda: train_step(model)))
    for name, model in models.items():
        row = results[name]
        row['forward_s'] = statistics.median(samples[name]['forward'])
        row['forward_batch'] = args.infer_batch
        row['train_step_s'] = statistics.median(samples[name]['train'])
        row['train_batch'] = args.batch
        row['train_clips_per_s'] = args.batch / row['train_step_s']
        if device.type == 'cuda':
            torch.cuda.synchronize()
            resident = torch.cuda.memory_allocated(device)
            torch.cuda.reset_peak_memory_stats(device)
            train_step(model)
            torch.cuda.synchronize()
            row['peak_mem_mib'] = (torch.cuda.max_memory_allocated(device) -
                                   resident) / 2**20
        else:
            row['saved_act_mib'] = saved_activation_bytes(
                lambda: train_step(model), model) / 2**20
    if args.profile:
        step = forward if args.profile_step == 'forward' else train_step
        kind = 'GPU kernel' if device.type == 'cuda' else 'CPU'
        for name, model in models.items():
            print(f'## {name}: top {args.profile} operators by self {kind} '
                  f'time, 3 calls of the {args.profile_step} step')
            print(top_ops(lambda: step(model), args.profile, device=device))
    reference = results['TSM-R50']
    for row in results.values():
        row['forward_vs_tsm'] = row['forward_s'] / reference['forward_s']
        row['train_vs_tsm'] = row['train_step_s'] / reference['train_step_s']
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
