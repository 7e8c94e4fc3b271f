"""Metrics, the side-by-side table and the PNG figures of the demo."""
from __future__ import annotations
import json
from pathlib import Path
from typing import Dict, List, Mapping, Sequence

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def classification_metrics(scores: np.ndarray,
                           labels: np.ndarray) -> Dict[str, float]:
    """Top-1, top-5 and mean class accuracy.

    Args:
        scores: Class scores of shape [N, K].
        labels: Ground-truth labels of shape [N].

    Returns:
        ``{'top1': ..., 'top5': ..., 'mean_class': ...}``.

    Raises:
        ValueError: Shapes disagree.
    """
    scores, labels = np.asarray(scores), np.asarray(labels)
    if scores.ndim != 2 or labels.shape != (scores.shape[0], ):
        raise ValueError(f'scores [N, K] and labels [N] expected, got '
                         f'{scores.shape} and {labels.shape}')
    ranked = np.argsort(-scores, axis=1)
    top1 = ranked[:, 0] == labels
    top5 = (ranked[:, :min(5, scores.shape[1])] == labels[:, None]).any(1)
    per_class = [top1[labels == c].mean() for c in np.unique(labels)]
    return dict(
        top1=float(top1.mean()),
        top5=float(top5.mean()),
        mean_class=float(np.mean(per_class)))


def confusion_matrix(predictions: np.ndarray, labels: np.ndarray,
                     num_classes: int) -> np.ndarray:
    """Counts ``[true, predicted]`` pairs into a [K, K] matrix."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels), np.asarray(predictions)), 1)
    return matrix


def format_table(rows: Mapping[str, Mapping[str, float]]) -> str:
    """Renders ``{model: {top1, top5, mean_class, train_s, test_s}}``.

    Returns:
        A Markdown table, one row per model.
    """
    lines = [
        '| model | top-1 | top-5 | mean class acc | train time | '
        'test time |', '|---|---|---|---|---|---|'
    ]
    for name, row in rows.items():
        lines.append(f"| {name} | {row['top1']:.3f} | {row['top5']:.3f} | "
                     f"{row['mean_class']:.3f} | {row['train_s']:.0f} s | "
                     f"{row['test_s']:.0f} s |")
    return '\n'.join(lines)


def read_scalars(scalars_json: Path) -> Dict[str, List[tuple]]:
    """Reads mmengine's ``vis_data/scalars.json`` into curves.

    Returns:
        ``{'loss': [(iter, loss)], 'val_top1': [(epoch, acc)]}``.
    """
    curves: Dict[str, List[tuple]] = {'loss': [], 'val_top1': []}
    for line in Path(scalars_json).read_text().splitlines():
        record = json.loads(line)
        if 'loss' in record and 'iter' in record:
            curves['loss'].append((record['iter'], record['loss']))
        if 'acc/top1' in record:
            curves['val_top1'].append((record['step'], record['acc/top1']))
    return curves


def plot_training_curves(curves: Mapping[str, Mapping[str, List[tuple]]],
                         out_png: Path) -> Path:
    """Training loss and validation top-1 of each model, side by side."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, curve in curves.items():
        if curve['loss']:
            ax_loss.plot(*zip(*curve['loss']), label=name)
        if curve['val_top1']:
            ax_acc.plot(*zip(*curve['val_top1']), marker='o', label=name)
    ax_loss.set(
        xlabel='iteration', ylabel='training loss', title='Training loss')
    ax_acc.set(
        xlabel='epoch',
        ylabel='top-1',
        ylim=(0, 1.05),
        title='Validation top-1')
    for axis in (ax_loss, ax_acc):
        axis.grid(alpha=0.3)
        axis.legend()
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return out_png


def plot_confusions(matrices: Mapping[str, np.ndarray],
                    class_names: Sequence[str], out_png: Path) -> Path:
    """One confusion matrix per model (rows: truth, columns: prediction)."""
    fig, axes = plt.subplots(
        1, len(matrices), figsize=(5.2 * len(matrices), 4.8))
    axes = np.atleast_1d(axes)
    for axis, (name, matrix) in zip(axes, matrices.items()):
        axis.imshow(matrix, cmap='Blues')
        for (row, col), count in np.ndenumerate(matrix):
            if count:
                axis.text(
                    col,
                    row,
                    int(count),
                    ha='center',
                    va='center',
                    fontsize=7,
                    color='white' if count > matrix.max() / 2 else 'black')
        ticks = range(len(class_names))
        axis.set_xticks(
            ticks, class_names, rotation=60, ha='right', fontsize=7)
        axis.set_yticks(ticks, class_names, fontsize=7)
        axis.set(title=name, xlabel='predicted', ylabel='true')
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return out_png


def plot_cmem_attention(frames: np.ndarray, attention: np.ndarray, title: str,
                        out_png: Path) -> Path:
    """Frames of one clip above CMEM's per-frame channel attention.

    Args:
        frames: uint8 RGB frames [T, H, W, 3].
        attention: Attention F^s of one CMEM layer, [T, C], in (-1, 1).
        title: Figure title.
        out_png: Output file.
    """
    num_frames = frames.shape[0]
    fig = plt.figure(figsize=(1.3 * num_frames, 4.2))
    grid = fig.add_gridspec(2, num_frames, height_ratios=(1, 1.6))
    for t in range(num_frames):
        axis = fig.add_subplot(grid[0, t])
        axis.imshow(frames[t])
        axis.set_axis_off()
        axis.set_title(f't={t}', fontsize=8)
    axis = fig.add_subplot(grid[1, :])
    image = axis.imshow(
        attention.T, aspect='auto', cmap='coolwarm', vmin=-1, vmax=1)
    axis.set(
        xlabel='frame t',
        ylabel='channel',
        title='CMEM attention F^s (Eq. 8): >0 enhances, <0 suppresses;'
        ' last frame has no successor (F = 0)')
    axis.set_xticks(range(num_frames))
    fig.colorbar(image, ax=axis, fraction=0.02)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return out_png
