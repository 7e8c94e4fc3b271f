"""The demo's metrics, table and figures."""
import json
from pathlib import Path

import numpy as np
import pytest

from img_mmaction.demo import report


def test_metrics_against_hand_counts() -> None:
    scores = np.array([[.9, .1, 0], [.2, .7, .1], [.6, .3, .1], [.1, .2, .7]])
    labels = np.array([0, 1, 1, 1])
    metrics = report.classification_metrics(scores, labels)
    assert metrics['top1'] == pytest.approx(2 / 4)  # rows 0 and 1
    assert metrics['mean_class'] == pytest.approx((1 + 1 / 3) / 2)
    assert metrics['top5'] == 1.0
    matrix = report.confusion_matrix(scores.argmax(1), labels, 3)
    assert matrix.tolist() == [[1, 0, 0], [1, 1, 1], [0, 0, 0]]
    with pytest.raises(ValueError):
        report.classification_metrics(scores, labels[:2])


def test_table_and_figures(tmp_path: Path) -> None:
    row = dict(top1=0.95, top5=1.0, mean_class=0.9, train_s=70, test_s=5)
    table = report.format_table({'IMG': row, 'TSN': dict(row, top1=0.5)})
    assert '| IMG | 0.950 | 1.000 | 0.900 | 70 s | 5 s |' in table
    assert '| TSN | 0.500 |' in table
    scalars = tmp_path / 'scalars.json'
    scalars.write_text('\n'.join(
        json.dumps(r) for r in [{
            'loss': 2.0,
            'iter': 1,
            'step': 1
        }, {
            'loss': 1.0,
            'iter': 2,
            'step': 2
        }, {
            'acc/top1': 0.4,
            'step': 1
        }]))
    curves = report.read_scalars(scalars)
    assert curves == {'loss': [(1, 2.0), (2, 1.0)], 'val_top1': [(1, 0.4)]}
    pngs = [
        report.plot_training_curves({'IMG': curves}, tmp_path / 'c.png'),
        report.plot_confusions({'IMG': np.eye(3, dtype=int)}, 'abc',
                               tmp_path / 'm.png'),
        report.plot_cmem_attention(
            np.zeros((4, 8, 8, 3), np.uint8), np.zeros((4, 6)), 't',
            tmp_path / 'a.png'),
    ]
    for png in pngs:
        assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
