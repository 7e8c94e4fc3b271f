"""benchmarks.online_accuracy: the frames-seen protocols, on tiny videos."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.dataset import Compose

from benchmarks import online_accuracy as experiment
from img_mmaction.testing import make_video_dataset
from img_mmaction.utils import config_path
from img_mmaction.utils.frames import FramePipeline


@pytest.fixture(scope='module')
def videos(tmp_path_factory: pytest.TempPathFactory) -> list:
    """Three real 16-frame mp4s of the synthetic motions."""
    folder, _ = make_video_dataset(
        tmp_path_factory.mktemp('videos'), num_videos=3)
    return sorted(folder.glob('*.mp4'))


def recipe_and_model(key: str) -> tuple:
    cfg = Config.fromfile(str(config_path(experiment.RUNS[key][1])))
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():  # distinct scores, not ~uniform ones
        model.cls_head.fc_cls.weight.normal_(0, 1.0)
    return cfg, model


def full_video_scores(cfg: Config, model: torch.nn.Module,
                      videos: list) -> np.ndarray:
    """What ``mim test`` computes: the whole test pipeline on each file."""
    pipeline = Compose(cfg.test_dataloader.dataset.pipeline)
    data = [
        pipeline(
            dict(filename=str(v), label=-1, start_index=0, modality='RGB'))
        for v in videos
    ]
    with torch.no_grad():
        outputs = model.test_step(
            dict(
                inputs=[d['inputs'] for d in data],
                data_samples=[ActionDataSample() for _ in data]))
    return torch.stack([o.pred_score for o in outputs]).numpy()


@pytest.mark.parametrize('key', ['causal-s2', 'img'])
def test_after_all_frames_both_protocols_equal_the_test_pipeline(
        key: str, videos: list) -> None:
    """Streaming at stride 2 sees frames 0, 2, ..., 14: the recipe's test
    clip; the window protocol on all 16 frames is the test clip too."""
    cfg, model = recipe_and_model(key)
    frames = np.stack([experiment.read_video(v) for v in videos])
    scores = experiment.frames_curve(model, cfg, experiment.RUNS[key][2],
                                     frames)
    assert scores.shape == (16, 3, 8)
    np.testing.assert_allclose(
        scores[-1],
        full_video_scores(cfg, model, videos),
        rtol=1e-5,
        atol=1e-6)
    if key == 'causal-s2':  # nothing new on odd frames
        np.testing.assert_array_equal(scores[1::2], scores[0::2])
    assert not np.allclose(scores[0], scores[-1])


def test_window_protocol_samples_the_prefix() -> None:
    cfg = Config.fromfile(str(config_path(experiment.RUNS['img'][1])))
    pipeline = FramePipeline.from_config(cfg)
    assert pipeline.frame_indices(1).tolist() == [0] * 8
    assert pipeline.frame_indices(16).tolist() == list(range(1, 16, 2))
    assert max(pipeline.frame_indices(5)) == 4


def test_accuracy_curve_table_and_figure(tmp_path: Path) -> None:
    scores = np.zeros((2, 3, 4))
    scores[0, :, 0] = 1  # all say class 0 after frame 1
    scores[1, np.arange(3), [1, 2, 3]] = 1  # each its own label after 2
    curve = experiment.accuracy_curve(scores, np.array([1, 2, 0]))
    assert curve == [pytest.approx(1 / 3), pytest.approx(2 / 3)]
    results = {
        'a': dict(label='A', top1_after_frames=curve, mim_test_top1=0.5)
    }
    table = experiment.format_table(results)
    assert '| 2 | 0.667 |' in table
    assert '| `mim test` (recipe) | 0.500 |' in table
    assert experiment.plot(results, tmp_path / 'a.png').stat().st_size > 0


def test_results_are_printed_and_written(tmp_path: Path,
                                         capsys: pytest.CaptureFixture
                                         ) -> None:
    results = {
        'a': dict(label='A', top1_after_frames=[0.25, 0.5], mim_test_top1=0.5)
    }
    assert experiment.progress_line(results['a']) == (
        '  A: mim test top-1 0.500; after 1..2 frames: 0.25 0.50')
    args = experiment.build_parser().parse_args(['--seed', '3'])
    experiment.write_results(results, args, ['--seed', '3'], tmp_path, 4)
    summary = (tmp_path / 'results_seed3.md').read_text()
    assert '| 2 | 0.500 |' in summary
    assert '4 val videos; 12 epochs, training seed 3, data seed 0;' in summary
    record = json.loads((tmp_path / 'results_seed3.json').read_text())
    assert record['runs'] == results and record['argv'] == ['--seed', '3']
    assert (tmp_path / 'accuracy_vs_frames_seed3.png').stat().st_size > 0
    assert summary.strip() in capsys.readouterr().out
