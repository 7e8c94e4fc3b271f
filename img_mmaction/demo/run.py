"""The main job: IMG learns order-only motion classes that TSN cannot.

``make demo`` (``python -m img_mmaction.demo.run``) runs this module. It

1. generates (once, cached) the synthetic motion dataset of
   :mod:`img_mmaction.synthetic`: 8 classes in 4 time-reversed pairs;
2. trains IMG and the TSN baseline with ``mim train mmaction`` on the same
   budget, and tests each with ``mim test mmaction --dump``;
3. prints the side-by-side table and writes ``results.md``/``results.json``,
   ``training_curves.png``, ``confusion.png`` and ``cmem_attention.png``
   into the output folder (``demo_output/`` by default).

Both recipes are the packaged ``configs/demo/`` (the same tiny Res2Net, with
CMEM and the adaptive shift on for IMG, off for TSN); everything the demo
needs (crop, normalisation, segments) is read from them, so it runs from an
installed package as well as from a clone.
"""
from __future__ import annotations
import argparse
import json
import platform
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from img_mmaction import synthetic
from img_mmaction.demo import report
from img_mmaction.demo.mim import train_and_test as mim_train_and_test
from img_mmaction.utils import config_path
from img_mmaction.utils.environment import machine

CONFIGS = {
    'IMG': 'demo/img_res2net-tiny_1xb8-1x1x8-12e_motion-demo-rgb.py',
    'TSN': 'demo/tsn_res2net-tiny_1xb8-1x1x8-12e_motion-demo-rgb.py',
}


def data_options(data: Path) -> List[str]:
    """``--cfg-options`` that point a demo recipe at the dataset ``data``."""
    videos = data / 'videos'
    return [
        f'train_dataloader.dataset.ann_file={data / "train.txt"}',
        f'train_dataloader.dataset.data_prefix.video={videos}',
        f'val_dataloader.dataset.ann_file={data / "val.txt"}',
        f'val_dataloader.dataset.data_prefix.video={videos}',
        f'test_dataloader.dataset.ann_file={data / "val.txt"}',
        f'test_dataloader.dataset.data_prefix.video={videos}',
    ]


def train_and_test(name: str, data: Path, out: Path,
                   epochs: int) -> Dict[str, object]:
    """Trains and tests one model through ``mim``; returns its results."""
    config = config_path(CONFIGS[name])
    print(f'Training {name} ({config.name}) ...', flush=True)
    run = mim_train_and_test(
        config, out / 'work' / name.lower(), name,
        data_options(data) + [f'train_cfg.max_epochs={epochs}'],
        data_options(data))
    scores, labels = run['scores'], run['labels']
    metrics = report.classification_metrics(scores, labels)
    return dict(
        metrics,
        train_s=run['train_s'],
        test_s=run['test_s'],
        checkpoint=run['checkpoint'],
        confusion=report.confusion_matrix(
            scores.argmax(1), labels, len(synthetic.CLASS_NAMES)),
        curves=report.read_scalars(run['scalars']))


def attention_figure(checkpoint: str, data: Path, out_png: Path) -> Path:
    """CMEM attention of the trained IMG model on one validation clip.

    The clip goes through the recipe's own test pipeline and data
    preprocessor (sampling, crop, normalisation), as in ``mim test``.
    """
    from mmaction.apis import init_recognizer
    from mmengine.config import Config

    from img_mmaction.demo.attention import cmem_attention, prepare_clip

    cfg = Config.fromfile(str(config_path(CONFIGS['IMG'])))
    model = init_recognizer(cfg, checkpoint, device='cpu')
    video = data / 'videos' / 'val' / '0_0000.mp4'  # "move right"
    frames, inputs = prepare_clip(cfg, model, video)
    attentions = cmem_attention(model, inputs)
    name = sorted(attentions)[0]  # the first block's CMEM
    return report.plot_cmem_attention(
        frames, attentions[name].numpy(),
        f'IMG, clip "{video.name}" (move right), {name}', out_png)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, dict]:
    """Runs the whole demo; returns the results table as a dict."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--out',
        default='demo_output',
        help='output folder (default: %(default)s)')
    parser.add_argument('--videos-per-class', type=int, default=40)
    parser.add_argument('--val-per-class', type=int, default=10)
    parser.add_argument('--epochs', type=int, default=12)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    start = time.time()

    print('Generating the synthetic motion dataset (cached) ...', flush=True)
    data = synthetic.generate(
        out / 'data',
        args.videos_per_class,
        args.val_per_class,
        seed=args.seed,
        progress=lambda done, total: done % 80 == 0 and print(
            f'  {done}/{total} videos', flush=True))

    results = {
        name: train_and_test(name, data, out, args.epochs)
        for name in ('IMG', 'TSN')
    }
    table = report.format_table(results)
    report.plot_training_curves(
        {
            name: r['curves']
            for name, r in results.items()
        }, out / 'training_curves.png')
    report.plot_confusions(
        {
            name: r['confusion']
            for name, r in results.items()
        }, synthetic.CLASS_NAMES, out / 'confusion.png')
    attention_figure(results['IMG']['checkpoint'], data,
                     out / 'cmem_attention.png')
    total_s = time.time() - start
    on = f'{machine()}, Python {platform.python_version()}'
    summary = (f'{table}\n\n{len(synthetic.CLASS_NAMES)} classes in 4 '
               f'time-reversed pairs, {args.videos_per_class} training and '
               f'{args.val_per_class} test videos per class, '
               f'{args.epochs} epochs each; whole demo {total_s:.0f} s on '
               f'{on}.')
    print('\n' + summary)
    (out / 'results.md').write_text(summary + '\n')
    (out / 'results.json').write_text(
        json.dumps(
            {
                name: {
                    k: v
                    for k, v in r.items()
                    if k in ('top1', 'top5', 'mean_class', 'train_s', 'test_s')
                }
                for name, r in results.items()
            } | {'total_s': total_s},
            indent=2))
    print(f'Figures: {out}/training_curves.png, confusion.png, '
          'cmem_attention.png')
    return results


if __name__ == '__main__':
    main()
