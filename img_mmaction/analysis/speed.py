"""IMG vs TSM vs TSN: FLOPs, params, latency, training step, memory.

All models run in ONE process on the same input, alternating model by model
in every repetition so that drift (thermal, other load) hits them equally.

* forward: eval mode, ``torch.no_grad``, median of ``--repeats`` after
  ``--warmup`` runs;
* train step: train mode, forward + cross-entropy + backward, median;
* memory: on CUDA the peak allocated memory of a train step; on CPU the
  memory autograd keeps for backward in a train step, i.e. the storages
  of the saved tensors, each once, parameters excluded (the part of
  training memory that depends on the architecture; weights and gradients
  are ``params * 4`` bytes each);
* FLOPs and params: mmengine's counter on one clip (as ``mim run mmaction
  get_flops``);
* ``--variants`` adds IMG with CMEM off, with the shift off, with both
  off (plain Res2Net-50, TSN-style), and IMG with its backbone in NCHW
  (``channels_last=False``): where IMG's cost over TSM comes from;
* ``--profile N`` prints, for each model, the N operators with the most
  self CPU time in 3 forward passes (torch.profiler).

Denormal floats are flushed: randomly initialised deep nets otherwise hit
denormals on CPU and some models slow down five-fold for no architectural
reason.

Usage::

    python tools/benchmarks/speed.py          # CPU, batch 1, 2 threads
    python tools/benchmarks/speed.py --device cuda --amp --channels-last
    python tools/benchmarks/speed.py --batch 2 --threads 2 --json bench.json
    python tools/benchmarks/speed.py --variants --profile 12
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


def top_ops(fn: Callable[[], None], rows: int, runs: int = 3) -> str:
    """Profiles ``runs`` calls of ``fn`` with torch.profiler.

    Args:
        fn: The call to profile.
        rows: Operators listed.
        runs: Calls profiled. Defaults to 3.

    Returns:
        The table of the ``rows`` operators with the most self CPU time.
    """
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(runs):
            fn()
    return prof.key_averages().table(
        sort_by='self_cpu_time_total',
        row_limit=rows,
        max_name_column_width=36)


def measure(args: argparse.Namespace) -> Dict[str, Dict[str, float]]:
    """Runs the benchmark.

    Args:
        args: The parsed command line (see :func:`main`).

    Returns:
        Per model: ``gflops``, ``mparams``, ``forward_s``, ``train_step_s``,
        ``peak_mem_mib`` (CUDA) or ``saved_act_mib`` (CPU), and the ratios
        ``forward_vs_tsm``, ``train_vs_tsm``.

    Raises:
        ValueError: A size, count or thread number is below 1 (warm-up
            below 0).
    """
    for name in ('batch', 'segments', 'size', 'threads', 'repeats'):
        if getattr(args, name) < 1:
            raise ValueError(f'--{name} must be >= 1, got '
                             f'{getattr(args, name)}')
    if args.warmup < 0:
        raise ValueError(f'--warmup must be >= 0, got {args.warmup}')
    register_all_modules()
    torch.manual_seed(0)
    device = torch.device(args.device)
    if device.type == 'cpu':
        torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    shape = (args.batch, args.segments, 3, args.size, args.size)
    inputs = torch.randn(shape, device=device)
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
            model.extract_feat(inputs, stage='head')

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
        results[name]['forward_s'] = statistics.median(
            samples[name]['forward'])
        results[name]['train_step_s'] = statistics.median(
            samples[name]['train'])
        if device.type == 'cuda':
            torch.cuda.reset_peak_memory_stats()
            train_step(model)
            results[name]['peak_mem_mib'] = \
                torch.cuda.max_memory_allocated() / 2**20
        else:
            results[name]['saved_act_mib'] = saved_activation_bytes(
                lambda: train_step(model), model) / 2**20
    if args.profile:
        for name, model in models.items():
            print(f'## {name}: top {args.profile} operators by self CPU '
                  'time, 3 forward passes')
            print(top_ops(lambda: forward(model), args.profile))
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
        f'| {memory_name} | forward / TSM | train / TSM |',
        '|---|---|---|---|---|---|---|---|'
    ]
    for name, r in results.items():
        lines.append(f"| {name} | {r['gflops']:.2f} | {r['mparams']:.2f} | "
                     f"{r['forward_s']:.3f} | {r['train_step_s']:.3f} | "
                     f"{r[memory_key]:.0f} | {r['forward_vs_tsm']:.3f} | "
                     f"{r['train_vs_tsm']:.3f} |")
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Parses the command line, measures, prints the table, writes JSON.

    Args:
        argv: Command-line arguments. Defaults to None (``sys.argv``).
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--batch',
        type=int,
        default=1,
        help='clips per batch (each of --segments frames)')
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
        '--variants',
        action='store_true',
        help='also IMG without CMEM / shift / both')
    parser.add_argument(
        '--profile',
        type=int,
        default=0,
        metavar='N',
        help='print the top N operators of each forward')
    parser.add_argument('--json', default=None, help='also write JSON here')
    args = parser.parse_args(argv)
    results = measure(args)
    print(f'# {args.batch}x{args.segments}x3x{args.size}x{args.size}, '
          f'{args.device}, {args.threads} threads, amp={args.amp}, '
          f'torch {torch.__version__}, {platform.machine()}')
    print(format_table(results))
    if args.json:
        with open(args.json, 'w') as handle:
            json.dump(dict(args=vars(args), results=results), handle, indent=2)


if __name__ == '__main__':
    main()
