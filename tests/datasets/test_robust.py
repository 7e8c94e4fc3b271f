"""Robust datasets: bad lists refused, broken media skipped or named."""
import re
from pathlib import Path

import pytest
from mmaction.registry import DATASETS
from mmengine.config import Config
from mmengine.runner import Runner

from img_mmaction.datasets import AnnotationError, BrokenSampleError
from img_mmaction.testing import (TINY_TSM_CONFIG, make_rawframe_dataset,
                                  make_video_dataset)


# -- bad annotation files ----------------------------------------------------
def bad_rawframe_list(root: Path) -> Path:
    frames_dir, ann = make_rawframe_dataset(root, num_videos=2, num_frames=6)
    (frames_dir / '2' / '00004.jpg').unlink()
    ann.write_text('1 6 0\n'  # 1: fine
                   '2 6\n'  # 2: missing label column
                   '1 6 cat\n'  # 3: non-integer label
                   '1 6 9\n'  # 4: out of range (2 classes)
                   'nowhere 6 1\n'  # 5: missing frame directory
                   '2 6 1\n')  # 6: a frame is missing
    return ann


def test_robust_dataset_refuses_a_bad_list_before_training(tmp_path: Path
                                                           ) -> None:
    ann = bad_rawframe_list(tmp_path)
    with pytest.raises(AnnotationError, match=r'ann\.txt:3: label'):
        DATASETS.build(
            dict(
                type='RobustRawframeDataset',
                ann_file=str(ann),
                data_prefix=dict(img=str(tmp_path)),
                num_classes=2,
                pipeline=[]))


# -- broken media -------------------------------------------------------------
def break_videos(videos_dir: Path) -> list:
    """Truncates one mp4, empties another and deletes a third."""
    truncated = videos_dir / 'clip_0001.mp4'
    truncated.write_bytes(truncated.read_bytes()[:300])
    (videos_dir / 'clip_0002.mp4').write_bytes(b'')
    (videos_dir / 'clip_0003.mp4').unlink()
    return [
        truncated, videos_dir / 'clip_0002.mp4', videos_dir / 'clip_0003.mp4'
    ]


def tiny_run(tmp_path: Path, ratio: float, workers: int) -> Config:
    videos_dir, ann = make_video_dataset(tmp_path / 'data', num_videos=12)
    break_videos(videos_dir)
    cfg = Config.fromfile(str(TINY_TSM_CONFIG))
    cfg.work_dir = str(tmp_path / 'work')
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.update(
            type='RobustVideoDataset',
            ann_file=str(ann),
            data_prefix=dict(video=str(videos_dir)))
    cfg.train_dataloader.update(num_workers=workers, persistent_workers=False)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.custom_hooks = [dict(type='BrokenSampleHook', max_broken_ratio=ratio)]
    return cfg


def test_training_skips_broken_videos_logs_and_counts_them(tmp_path: Path
                                                           ) -> None:
    runner = Runner.from_cfg(tiny_run(tmp_path, ratio=0.5, workers=2))
    runner.train()
    log = next((tmp_path / 'work').glob('*/*.log')).read_text()
    for name in ('clip_0001.mp4', 'clip_0002.mp4', 'clip_0003.mp4'):
        assert re.search(rf'skipping broken sample \S*{re.escape(name)}: ',
                         log), name
    counted = runner.train_dataloader.dataset.num_skipped_total
    assert counted >= 3  # each broken video at least once (refetch may
    # draw a broken one again), counted across the 2 worker processes
    assert f'skipped {counted} broken sample(s) of 12' in log
    assert (tmp_path / 'work' / 'epoch_1.pth').is_file()


def test_too_many_broken_samples_stop_training(tmp_path: Path) -> None:
    runner = Runner.from_cfg(tiny_run(tmp_path, ratio=0.1, workers=0))
    with pytest.raises(RuntimeError, match='more than max_broken_ratio'):
        runner.train()


def test_test_mode_names_the_broken_file(tmp_path: Path) -> None:
    cfg = tiny_run(tmp_path, ratio=0.5, workers=0)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    assert len(dataset[0]['inputs']) == 4  # healthy clip
    with pytest.raises(BrokenSampleError, match='clip_0002.mp4'):
        dataset[2]
