"""The main job: IMG learns order-only motion classes that TSN cannot.

``make demo`` runs this module. It

1. generates (once, cached) the synthetic motion dataset of
   :mod:`img_mmaction.demo.synthetic`: 8 classes in 4 time-reversed pairs;
2. trains IMG and the TSN baseline with ``mim train mmaction`` on the same
   budget, and tests each with ``mim test mmaction --dump``;
3. prints the side-by-side table and writes ``results.md``/``results.json``,
   ``training_curves.png``, ``confusion.png`` and ``cmem_attention.png``
   into the output folder (``demo_output/`` by default).

Both configs live in ``configs/demo/``: the same tiny Res2Net, with CMEM
and the adaptive shift on (IMG) or off (TSN).
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from img_mmaction.demo import report, synthetic

REPO = Path(__file__).resolve().parents[2]
CONFIGS = {
    'IMG': REPO / 'configs/demo/img_res2net-tiny_1xb8-1x1x8-12e_motion-demo-rgb.py',
    'TSN': REPO / 'configs/demo/tsn_res2net-tiny_1xb8-1x1x8-12e_motion-demo-rgb.py',
}
_PROGRESS = re.compile(r'Epoch\((train|val)\)\s*\[(\d+)\]\[(\d+)/(\d+)\]')


def _mim() -> str:
    return str(Path(sys.executable).with_name('mim'))


def _data_options(data: Path) -> List[str]:
    """``--cfg-options`` that point a demo config at ``data``."""
    videos = data / 'videos'
    return [
        f'train_dataloader.dataset.ann_file={data / "train.txt"}',
        f'train_dataloader.dataset.data_prefix.video={videos}',
        f'val_dataloader.dataset.ann_file={data / "val.txt"}',
        f'val_dataloader.dataset.data_prefix.video={videos}',
        f'test_dataloader.dataset.ann_file={data / "val.txt"}',
        f'test_dataloader.dataset.data_prefix.video={videos}',
    ]


def run_mim(args: List[str], log_file: Path, label: str) -> float:
    """Runs ``mim`` with its log in ``log_file``, showing epoch progress.

    Returns:
        Wall time in seconds.

    Raises:
        RuntimeError: ``mim`` failed; the message ends with its log tail.
    """
    start = time.time()
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    with open(log_file, 'w') as log, subprocess.Popen(
            [_mim(), *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, env=env, cwd=REPO) as proc:
        for line in proc.stdout:
            log.write(line)
            match = _PROGRESS.search(line)
            if not match or match.group(3) != match.group(4):
                continue
            stage, epoch = match.group(1), match.group(2)
            accuracy = re.search(r'acc/top1: ([0-9.]+)', line)
            if stage == 'train':
                loss = re.search(r' loss: ([0-9.]+)', line)
                print(f'  [{label}] epoch {epoch}: loss '
                      f'{loss.group(1) if loss else "?"}', end='', flush=True)
            elif accuracy:  # the epoch's summary line
                print(f', val top-1 {accuracy.group(1)} '
                      f'({time.time() - start:.0f} s)', flush=True)
    if proc.returncode != 0:
        tail = ''.join(log_file.read_text().splitlines(True)[-30:])
        raise RuntimeError(f'mim {args[0]} failed for {label}; see '
                           f'{log_file}:\n{tail}')
    return time.time() - start


def _last_checkpoint(work_dir: Path) -> Path:
    """The final checkpoint: no selection on the videos it is tested on."""
    return Path((work_dir / 'last_checkpoint').read_text().strip())


def _load_predictions(dump: Path) -> tuple:
    """Reads the ``--dump`` file that this run's ``mim test`` wrote."""
    with open(dump, 'rb') as handle:
        samples = pickle.load(handle)  # our own output, not a download
    scores = np.stack([np.asarray(s['pred_score']) for s in samples])
    labels = np.array([int(np.asarray(s['gt_label']).reshape(-1)[0])
                       for s in samples])
    return scores, labels


def train_and_test(name: str, data: Path, out: Path, epochs: int
                   ) -> Dict[str, object]:
    """Trains and tests one model through ``mim``; returns its results."""
    work_dir = out / 'work' / name.lower()
    options = _data_options(data) + [f'train_cfg.max_epochs={epochs}']
    print(f'Training {name} ({CONFIGS[name].name}) ...', flush=True)
    train_s = run_mim(['train', 'mmaction', str(CONFIGS[name]), '--work-dir',
                       str(work_dir), '--cfg-options', *options],
                      out / f'{name.lower()}_train.log', name)
    checkpoint = _last_checkpoint(work_dir)
    dump = work_dir / 'test_predictions.pkl'
    print(f'Testing {name} with {checkpoint.name} ...', flush=True)
    test_s = run_mim(['test', 'mmaction', str(CONFIGS[name]), '--checkpoint',
                      str(checkpoint), '--work-dir', str(work_dir / 'test'),
                      '--dump', str(dump), '--cfg-options',
                      *_data_options(data)],
                     out / f'{name.lower()}_test.log', name)
    scores, labels = _load_predictions(dump)
    metrics = report.classification_metrics(scores, labels)
    scalars = sorted(work_dir.glob('*/vis_data/scalars.json'))[-1]
    return dict(metrics, train_s=train_s, test_s=test_s,
                checkpoint=str(checkpoint),
                confusion=report.confusion_matrix(scores.argmax(1), labels,
                                                  len(synthetic.CLASS_NAMES)),
                curves=report.read_scalars(scalars))


def attention_figure(checkpoint: str, data: Path, out_png: Path) -> Path:
    """CMEM attention of the trained IMG model on one validation clip."""
    import decord
    import torch
    from mmaction.apis import init_recognizer
    from mmengine.config import Config

    from img_mmaction.demo.attention import cmem_attention

    cfg = Config.fromfile(str(CONFIGS['IMG']))
    model = init_recognizer(cfg, checkpoint, device='cpu')
    video = data / 'videos' / 'val' / '0_0000.mp4'  # "move right"
    reader = decord.VideoReader(str(video))
    num_segments = cfg.num_segments
    indices = np.linspace(0, len(reader) - 1, num_segments).round().astype(int)
    frames = reader.get_batch(list(indices)).asnumpy()  # [T, H, W, 3]
    offset = (frames.shape[1] - 56) // 2
    crops = frames[:, offset:offset + 56, offset:offset + 56]
    # [T, H, W, 3] -> [T, 3, H, W]
    inputs = torch.from_numpy(crops).permute(0, 3, 1, 2).float()
    inputs = (inputs - 127.5) / 64.0
    attentions = cmem_attention(model, inputs)
    name = sorted(attentions)[0]  # the first block's CMEM
    return report.plot_cmem_attention(
        crops, attentions[name].numpy(),
        f'IMG, clip "{video.name}" (move right), {name}', out_png)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, dict]:
    """Runs the whole demo; returns the results table as a dict."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default=str(REPO / 'demo_output'),
                        help='output folder (default: demo_output/)')
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
        out / 'data', args.videos_per_class, args.val_per_class,
        seed=args.seed,
        progress=lambda done, total: done % 80 == 0 and print(
            f'  {done}/{total} videos', flush=True))

    results = {name: train_and_test(name, data, out, args.epochs)
               for name in ('IMG', 'TSN')}
    table = report.format_table(results)
    report.plot_training_curves(
        {name: r['curves'] for name, r in results.items()},
        out / 'training_curves.png')
    report.plot_confusions({name: r['confusion']
                            for name, r in results.items()},
                           synthetic.CLASS_NAMES, out / 'confusion.png')
    attention_figure(results['IMG']['checkpoint'], data,
                     out / 'cmem_attention.png')
    total_s = time.time() - start
    machine = (f'{platform.processor() or platform.machine()}, '
               f'{os.cpu_count()} CPU cores, Python '
               f'{platform.python_version()}')
    summary = (f'{table}\n\n{len(synthetic.CLASS_NAMES)} classes in 4 '
               f'time-reversed pairs, {args.videos_per_class} training and '
               f'{args.val_per_class} test videos per class, '
               f'{args.epochs} epochs each; whole demo {total_s:.0f} s on '
               f'{machine}.')
    print('\n' + summary)
    (out / 'results.md').write_text(summary + '\n')
    (out / 'results.json').write_text(json.dumps(
        {name: {k: v for k, v in r.items() if k in
                ('top1', 'top5', 'mean_class', 'train_s', 'test_s')}
         for name, r in results.items()} | {'total_s': total_s},
        indent=2))
    print(f'Figures: {out}/training_curves.png, confusion.png, '
          'cmem_attention.png')
    return results


if __name__ == '__main__':
    main()
