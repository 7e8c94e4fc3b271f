"""Accuracy as a function of frames seen: online IMG vs offline IMG and TSN.

OUR experiment (docs/online.md), not the paper's. On the demo's synthetic
motion data (:func:`img_mmaction.synthetic.generate`, as ``make demo``),
every model is trained and tested through real ``mim`` runs
(:func:`img_mmaction.demo.mim.train_and_test`), then read on the val
videos after each of their first t = 1..16 frames:

* causal IMG (``configs/online/``): streamed frame by frame through
  :class:`~img_mmaction.models.StreamingRecognizer`, one input every
  ``frame_interval`` video frames (the recipe's stride) from frame 0;
  after video frame t its scores cover the inputs among frames 1..t;
* offline IMG and TSN (``configs/demo/``): the webcam-demo way, the
  recipe's own test sampling (8 segments) re-run on the first t frames.

Both use the recipe's test pipeline (crop, normalisation), on frames
decoded once by decord. The table, ``results.json`` and
``accuracy_vs_frames.png`` go to ``--out``.

Usage::

    python -m benchmarks.online_accuracy --out online_output
    python -m benchmarks.online_accuracy --models causal-s2 \\
        --epochs 1 --videos-per-class 2 --val-per-class 1
"""
from __future__ import annotations
import argparse
import datetime
import json
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

from img_mmaction import synthetic
from img_mmaction.models import StreamingRecognizer
from img_mmaction.utils import config_path
from img_mmaction.utils.environment import machine
from img_mmaction.utils.frames import FramePipeline, read_video

#: key: (label, recipe, protocol). 'stream': StreamingRecognizer frame by
#: frame; 'window': the recipe's test sampling re-run on frames 1..t.
RUNS: Dict[str, Tuple[str, str, str]] = {
    'img':
    ('IMG (offline, 8 segments)',
     'demo/img_res2net-tiny_1xb8-1x1x8-12e_motion-demo-rgb.py', 'window'),
    'tsn':
    ('TSN (offline, 8 segments)',
     'demo/tsn_res2net-tiny_1xb8-1x1x8-12e_motion-demo-rgb.py', 'window'),
    'causal-s2':
    ('causal IMG, stride 2 (ours)',
     'online/img-causal_res2net-tiny_1xb8-8x2x1-12e_motion-demo-rgb.py',
     'stream'),
    'causal-s1':
    ('causal IMG, stride 1 (ours)',
     'online/img-causal_res2net-tiny_1xb8-8x1x1-12e_motion-demo-rgb.py',
     'stream'),
}


def load_split(data: Path,
               split: str = 'val') -> Tuple[np.ndarray, np.ndarray]:
    """Decodes every video of a split of the demo's dataset.

    Args:
        data: The dataset folder (``synthetic.generate``'s ``out``).
        split: ``'train'`` or ``'val'``. Defaults to ``'val'``.

    Returns:
        ``(videos, labels)``: RGB uint8 [N, F, H, W, 3] and [N].
    """
    videos, labels = [], []
    for line in (data / f'{split}.txt').read_text().split('\n'):
        if line.strip():
            name, label = line.rsplit(' ', 1)
            videos.append(read_video(data / 'videos' / name))
            labels.append(int(label))
    return np.stack(videos), np.array(labels)


def frame_inputs(pipeline: FramePipeline, videos: np.ndarray) -> torch.Tensor:
    """Every frame of every video through the spatial steps, once.

    The steps of a test pipeline after sampling (resize, crop, format) act
    on each frame alone, so a clip of any frames is these frames stacked.

    Args:
        pipeline: The recipe's test pipeline.
        videos: RGB uint8 [N, F, H, W, 3].

    Returns:
        Raw model input [N, F, 3, H', W'].
    """
    return torch.stack([pipeline.inputs(list(video)) for video in videos])


def stream_scores(model: nn.Module, inputs: torch.Tensor,
                  stride: int) -> np.ndarray:
    """Scores after each video frame, streaming every ``stride``-th frame.

    Args:
        model: A causal recognizer.
        inputs: :func:`frame_inputs` of the videos, all streamed at once.
        stride: Video frames between two inputs of a stream.

    Returns:
        [F, N, K]: row t-1 holds the scores after video frames 1..t.
    """
    runner = StreamingRecognizer(model)
    rows = []
    scores = None
    for index in range(inputs.shape[1]):
        if index % stride == 0:
            # [N, F, 3, H, W] -> [N, 3, H, W]
            scores = runner.step(inputs[:, index])
        rows.append(scores.numpy())
    return np.stack(rows)


@torch.no_grad()
def window_scores(model: nn.Module, pipeline: FramePipeline,
                  inputs: torch.Tensor) -> np.ndarray:
    """Scores after each video frame, re-running the recipe's sampling.

    Args:
        model: A recognizer.
        pipeline: Its recipe's test pipeline (the sampling step).
        inputs: :func:`frame_inputs` of the videos.

    Returns:
        [F, N, K]: row t-1 holds the scores of the clip that the test
        sampling picks from the first t frames.
    """
    from mmaction.structures import ActionDataSample
    model.eval()
    rows = []
    for seen in range(1, inputs.shape[1] + 1):
        # [N, F, 3, H, W] -> [N, T, 3, H, W], the sampled frames
        clips = inputs[:, pipeline.frame_indices(seen)]
        samples = [ActionDataSample() for _ in range(len(clips))]
        outputs = model.test_step(
            dict(inputs=list(clips), data_samples=samples))
        rows.append(torch.stack([o.pred_score for o in outputs]).numpy())
    return np.stack(rows)


def accuracy_curve(scores: np.ndarray, labels: np.ndarray) -> List[float]:
    """Top-1 accuracy after each frame.

    Args:
        scores: [F, N, K].
        labels: [N].

    Returns:
        F accuracies.
    """
    return [float(v) for v in (scores.argmax(2) == labels[None]).mean(1)]


def frames_curve(model: nn.Module, cfg, protocol: str,
                 videos: np.ndarray) -> np.ndarray:
    """Scores [F, N, K] after each frame, by the run's protocol.

    Args:
        model: The trained recognizer.
        cfg: Its recipe (its test loader's pipeline).
        protocol: ``'stream'`` or ``'window'``.
        videos: RGB uint8 [N, F, H, W, 3].

    Returns:
        The scores.
    """
    pipeline = FramePipeline.from_config(cfg)
    inputs = frame_inputs(pipeline, videos)
    if protocol == 'stream':
        return stream_scores(model, inputs, pipeline.stride)
    return window_scores(model, pipeline, inputs)


def format_table(results: Dict[str, dict]) -> str:
    """Markdown: one row per number of frames seen, one column per run."""
    keys = list(results)
    lines = [
        '| frames seen | ' + ' | '.join(results[k]['label']
                                        for k in keys) + ' |',
        '|---' * (len(keys) + 1) + '|'
    ]
    frames = len(results[keys[0]]['top1_after_frames'])
    for t in range(frames):
        cells = [f'{results[k]["top1_after_frames"][t]:.3f}' for k in keys]
        lines.append(f'| {t + 1} | ' + ' | '.join(cells) + ' |')
    cells = [f'{results[k]["mim_test_top1"]:.3f}' for k in keys]
    lines.append('| `mim test` (recipe) | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def plot(results: Dict[str, dict], out_png: Path) -> Path:
    """Top-1 against frames seen, one line per run."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for run in results.values():
        curve = run['top1_after_frames']
        ax.plot(
            range(1,
                  len(curve) + 1), curve, marker='o', label=run['label'])
    ax.set_xlabel('video frames seen')
    ax.set_ylabel('top-1 on the val videos')
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_png, dpi=120)
    plt.close(fig)
    return out_png


def build_parser() -> argparse.ArgumentParser:
    """The command line of the experiment.

    Returns:
        The parser.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='online_output')
    parser.add_argument(
        '--models', nargs='+', choices=list(RUNS), default=list(RUNS))
    parser.add_argument('--epochs', type=int, default=12)
    parser.add_argument('--videos-per-class', type=int, default=40)
    parser.add_argument('--val-per-class', type=int, default=10)
    parser.add_argument(
        '--data-seed', type=int, default=0, help='seed of the dataset')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the training runs')
    return parser


def run_one(key: str, data: Path, out: Path, epochs: int, seed: int,
            videos: np.ndarray, labels: np.ndarray) -> dict:
    """Trains and tests one run through ``mim``, then its curve.

    Args:
        key: A key of :data:`RUNS`.
        data: The dataset folder.
        out: The output folder (the run works in ``work/<key>_seed<seed>``).
        epochs: Training epochs.
        seed: ``randomness.seed`` of the training run.
        videos: The val videos, RGB uint8 [N, F, H, W, 3].
        labels: Their labels [N].

    Returns:
        ``label``, ``recipe``, ``protocol``, ``checkpoint``, ``train_s``,
        ``mim_test_top1`` and ``top1_after_frames``.
    """
    from mmaction.apis import init_recognizer
    from mmengine.config import Config

    from img_mmaction.demo import report
    from img_mmaction.demo.mim import train_and_test
    from img_mmaction.demo.run import data_options
    label, recipe, protocol = RUNS[key]
    config = config_path(recipe)
    print(f'Training {label} ({config.name}) ...', flush=True)
    run = train_and_test(
        config, out / 'work' / f'{key}_seed{seed}', label,
        data_options(data) +
        [f'train_cfg.max_epochs={epochs}', f'randomness.seed={seed}'],
        data_options(data))
    cfg = Config.fromfile(str(config))
    model = init_recognizer(cfg, run['checkpoint'], device='cpu')
    curve = accuracy_curve(frames_curve(model, cfg, protocol, videos), labels)
    return dict(
        label=label,
        recipe=recipe,
        protocol=protocol,
        checkpoint=run['checkpoint'],
        train_s=run['train_s'],
        mim_test_top1=report.classification_metrics(run['scores'],
                                                    run['labels'])['top1'],
        top1_after_frames=curve)


def progress_line(result: dict) -> str:
    """One run's ``mim test`` top-1 and its accuracy after each frame."""
    curve = result['top1_after_frames']
    return (f'  {result["label"]}: mim test top-1 '
            f'{result["mim_test_top1"]:.3f}; after 1..{len(curve)} frames: ' +
            ' '.join(f'{a:.2f}' for a in curve))


def write_results(results: Dict[str, dict], args: argparse.Namespace,
                  argv: Optional[Sequence[str]], out: Path,
                  val_videos: int) -> None:
    """Prints the table; writes it, the JSON record and the figure.

    Args:
        results: The runs' results by key.
        args: The parsed command line.
        argv: The command-line arguments given to :func:`main` (None:
            ``sys.argv``), for the record.
        out: The output folder.
        val_videos: How many val videos the curves read.
    """
    table = format_table(results)
    stamp = datetime.date.today().isoformat()
    summary = (f'{table}\n\n{val_videos} val videos; {args.epochs} epochs, '
               f'training seed {args.seed}, data seed {args.data_seed}; '
               f'{stamp}, {machine()}.')
    print('\n' + summary)
    (out / f'results_seed{args.seed}.md').write_text(summary + '\n')
    (out / f'results_seed{args.seed}.json').write_text(
        json.dumps(
            dict(
                runs=results,
                argv=list(sys.argv[1:] if argv is None else argv),
                date=stamp),
            indent=2))
    plot(results, out / f'accuracy_vs_frames_seed{args.seed}.png')


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, dict]:
    """Writes the data, trains and reads every run, reports.

    Args:
        argv: Command-line arguments. Defaults to None (``sys.argv``).

    Returns:
        The results per run (:func:`run_one`).
    """
    args = build_parser().parse_args(argv)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    torch.set_flush_denormal(True)
    data = synthetic.generate(
        out / 'data',
        args.videos_per_class,
        args.val_per_class,
        seed=args.data_seed)
    videos, labels = load_split(data, 'val')
    results: Dict[str, dict] = {}
    for key in args.models:
        results[key] = run_one(key, data, out, args.epochs, args.seed, videos,
                               labels)
        print(progress_line(results[key]), flush=True)
    write_results(results, args, argv, out, len(labels))
    return results


if __name__ == '__main__':
    main()
